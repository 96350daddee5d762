import sys, os, json, pickle, numpy as np
from emu import load, PROTO
from comb import *
from scipy import ndimage as ndi
P=json.load(open(PROTO)); qs={q['id']:q for q in P['B']['queries']}
def depths(lab,sp=2.0):
    out={}
    for l in np.unique(lab):
        if l==0: continue
        out[int(l)]=float(ndi.distance_transform_edt(lab==l,sampling=sp).max()-0.5*sp)
    return out
def trend_offsets(r,L,dep,mode,fgrow,sp=2.0):
    # per candidate i, side k missing: offset giving vanish point from trend
    c=r['c']; a,b=r['srcs']; span=b-a
    off=np.zeros((len(c),2),np.float32)
    for i,l in enumerate(c):
        for k in range(2):
            if r['present'][i,k] or l==0: continue
            p=1-k; ps=[a,b][p]
            dp=r['depth'][i,k]  # depth of the present slice's map
            Li=L.index(ps); outer=L[Li-1] if p==0 and Li>0 else (L[Li+1] if p==1 and Li+1<len(L) else None)
            do=dep[outer].get(int(l),-sp/2) if outer is not None else None
            if do is None: off[i,k]=1.5*dp+sp; continue
            gap_out=abs(ps-outer)
            slope=(dp-do)/gap_out  # depth change per slice moving toward the gap
            if slope<0 and mode!='none':
                dstar=dp/(-slope)
            else:
                dstar=fgrow*span
            dstar=min(max(dstar,0.5),span-0.5)
            off[i,k]=(dp+0.5*sp)*span/dstar
    return off
for vol in sys.argv[1].split(','):
  for N in [5,10]:
    q=qs[f'B/aal-2mm/{vol}/N{N}']; im,lb=load(q); L=q['labelled_slices']
    dep={s:depths(lb[:,:,s]) for s in L}
    R=pickle.load(open(os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')+f'/raw_{vol}_N{N}.pkl','rb'))['targets']
    def run(fn):
        pr=[];tr=[]
        for t,r in R.items():
            D=fn(r); pr.append(r['c'][D.argmin(0)]); tr.append(lb[:,:,t])
        return dice_from(pr,tr)
    base=run(lambda r: combine(r)); print(vol,N,'base %.4f'%base)
    for mode in ['trend','none']:
        for fg in [0.4,0.5,0.6,0.75,0.9]:
            def fn(r):
                off=trend_offsets(r,L,dep,mode,fg)
                # replace offsets: combine with vf=0,vp=0 then add offsets manually
                REG=r['REG'].astype(np.float32); SH=r['SH'].astype(np.float32); w=r['w']
                alpha=0.6+0.2*min(1,max(0,(r['gap']-10)/10))
                o=np.where(r['present'],0,off)[:,:,None,None]
                wp=w**2; wp=wp/wp.sum(); agr=r['agr'].astype(np.float32)
                wr=wp[:,None,None]*agr; tot=wr.sum(0); wr=np.where(tot>0,wr/np.maximum(tot,1e-30),wp[:,None,None])
                D=alpha*(wr[None]*(REG+o)).sum(1)+(1-alpha)*(w[None,:,None,None]*(SH+o)).sum(1)
                D[r['c']==0]+=1.0
                return D
            print(vol,N,mode,'fgrow',fg,'%.4f'%run(fn),flush=True)
