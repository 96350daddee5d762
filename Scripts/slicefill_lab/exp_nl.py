import sys, os, json, pickle, numpy as np, time
from emu import *
from scipy import ndimage as ndi
P=json.load(open(PROTO)); qs={q['id']:q for q in P['B']['queries']}
vol=sys.argv[1]; R=int(sys.argv[2]) if len(sys.argv)>2 else 2; pr=int(sys.argv[3]) if len(sys.argv)>3 else 1
for N in [5,10]:
    q=qs[f'B/aal-2mm/{vol}/N{N}']
    im,lb=load(q); ev=pickle.load(open(os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')+f'/ev_{vol}_N{N}.pkl','rb')); up,down=chain(im,vol)
    L=q['labelled_slices']; T=q['target_slices']
    scale=np.percentile(im[im>0],99)
    votes={}
    t0=time.time()
    for t in T:
        c,D,_,_,_=ev[t]
        a=max(s for s in L if s<t); b=min(s for s in L if s>t); span=b-a; w=[(b-t)/span,(t-a)/span]
        fixed=im[:,:,t]/scale
        idx={int(l):i for i,l in enumerate(c)}
        V=np.zeros((len(c),)+fixed.shape,np.float32); dists=[]; labs=[]
        for k,s in enumerate([a,b]):
            qx,qy=compose(up,down,t,s)
            for dx in range(-R,R+1):
                for dy in range(-R,R+1):
                    wi=bil2(im[:,:,s]/scale,qx+dx,qy+dy)
                    d=ndi.uniform_filter((wi-fixed)**2,size=2*pr+1,mode='nearest')
                    ls=lb[:,:,s][np.clip(np.rint(qx+dx).astype(int),0,fixed.shape[0]-1),np.clip(np.rint(qy+dy).astype(int),0,fixed.shape[1]-1)]
                    dists.append(d+1e-9); labs.append((ls,w[k]))
        Dm=np.stack(dists); h=Dm.min(0)+1e-4
        for d,(ls,wk) in zip(Dm,labs):
            wt=np.exp(-d/h)*wk
            # spatial weight by offset? keep uniform
            for l in np.unique(ls):
                V[idx[int(l)]]+=np.where(ls==l,wt,0)
        V/=V.sum(0,keepdims=True)
        votes[t]=V
    print('votes %.1fs'%(time.time()-t0))
    for g in [0,0.5,1,2,4,8,100]:
        pred=np.zeros_like(lb)
        for t in T:
            c,D,_,_,_=ev[t]; S=D.astype(np.float32)-g*votes[t]*2.0
            pred[:,:,t]=c[S.argmin(0)]
        print(vol,N,'R',R,'pr',pr,'gamma',g,'%.4f'%dice_score(lb,pred,T),flush=True)
