import sys, json, time, numpy as np, pickle
from emu import *
def raw(im,lb,labelled,t,up,down,sp=2.0):
    srcs,w,span=bracket(labelled,t)
    fixed=im[:,:,t]
    maps=[compose(up,down,t,s) for s in srcs]
    agr=np.stack(agreement(im,t,srcs,maps))
    sh=[slice_maps(lb[:,:,s],sp) for s in srcs]
    cands=sorted(set(sh[0])|set(sh[1]))
    REG=np.zeros((len(cands),2)+fixed.shape,np.float16); SH=np.zeros_like(REG); present=np.zeros((len(cands),2),bool); depth=np.zeros((len(cands),2),np.float32)
    for i,l in enumerate(cands):
        for k in range(2):
            if l in sh[k]: m,dep=sh[k][l]; f=k; present[i,k]=True
            else: m,dep=sh[1-k][l]; f=1-k
            depth[i,k]=dep
            REG[i,k]=bil2(m,maps[f][0],maps[f][1]); SH[i,k]=m
    return dict(c=np.array(cands),REG=REG,SH=SH,present=present,depth=depth,agr=agr.astype(np.float16),w=np.array(w,np.float32),gap=span*sp,srcs=srcs,t=t)
if __name__=='__main__':
    P=json.load(open(PROTO))
    for q in P['B']['queries']:
        if q['id'] not in sys.argv[1:]: continue
        t0=time.time(); im,lb=load(q); up,down=chain(im,q['volume'])
        L=q['labelled_slices']
        out={'targets':{t:raw(im,lb,L,t,up,down) for t in q['target_slices']}}
        # held-out labelled slices (each filled from its labelled neighbours)
        out['held']={s:raw(im,lb,[x for x in L if x!=s],s,up,down) for s in L[1:-1]}
        pickle.dump(out,open(os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')+f'/raw_{q["volume"]}_N{q["N"]}.pkl','wb'))
        print(q['id'],'%.1fs'%(time.time()-t0),flush=True)
