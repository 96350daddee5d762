# Issue 16 (h49): an upper bound for every method that carries the bracketing labelled slices' labels to a target
# slice along smooth in-plane fields (the chain, z-regularised 3-D fields, half-way fields, a slab registration):
# the field from each bracketing slice is fitted to the TRUE labels of the target (multi-channel demons on
# Gaussian-smoothed one-hot maps, step <= 0.5 px, update and field smoothed with sigma SIGMA px, 60 iterations),
# both sources' one-hot maps warped (bilinear), weighted by distance, argmax. Uses the truth: not a method.
# Every STRIDE-th target slice only (slow: several seconds per target slice); the fused filler's Dice on the same slices beside it.
# Usage: python3 exp_oracle.py SIGMA STRIDE [QUERY_ID ...]
import sys, json, time, numpy as np
from emu import *
from comb import dice_from
sig=float(sys.argv[1]); stride=int(sys.argv[2])
P=json.load(open(PROTO)); qs=[q for q in P['B']['queries'] if len(sys.argv)<4 or q['id'] in sys.argv[3:]]
res={}
for q in qs:
    t0=time.time(); im,lb=load(q); L=q['labelled_slices']; T=q['target_slices'][::stride]; N=q['N']; pr=[]; pb=[]
    up,down=chain(im,q['volume'])
    nz=np.where(lb.any(2)); x0,x1=max(nz[0].min()-4,0),nz[0].max()+5; y0,y1=max(nz[1].min()-4,0),nz[1].max()+5
    for t in T:
        cands,D,_,_,_=evidence(im,lb,L,t,up,down,2.0); pb.append(cands[ndi.uniform_filter(D,(1,3,3),mode='nearest').argmin(0)][x0:x1,y0:y1])
        a=max(s for s in L if s<t); b=min(s for s in L if s>t); w=[(b-t)/(b-a),(t-a)/(b-a)]
        C=lambda z: lb[x0:x1,y0:y1,z]
        ls=sorted(set(np.unique(C(a)))|set(np.unique(C(b))))
        Ft=onehot(C(t),ls); acc=0
        for k,s in enumerate((a,b)):
            Ms=onehot(C(s),ls); u=label_demons(Ft,Ms,its=60,sig=sig); gx,gy=np.meshgrid(np.arange(Ft.shape[1],dtype=np.float32),np.arange(Ft.shape[2],dtype=np.float32),indexing='ij')
            hard=(np.array(ls)[:,None,None]==C(s)[None]).astype(np.float32)
            acc=acc+w[k]*sample(hard,np.broadcast_to(gx+u[...,0],hard.shape),np.broadcast_to(gy+u[...,1],hard.shape))
        pr.append(np.array(ls)[acc.argmax(0)])
    tr=[lb[x0:x1,y0:y1,t] for t in T]; v=dice_from(pr,tr); vb=dice_from(pb,tr); res.setdefault(N,[]).append(v)
    print(q['id'],'targets',T,'oracle sigma',sig,'%.4f'%v,'fused filler %.4f'%vb,'%.0fs'%(time.time()-t0),flush=True)
for N,v in sorted(res.items()): print('oracle',sig,'N',N,'%.4f ± %.4f'%(np.mean(v),np.std(v,ddof=1) if len(v)>1 else 0),' '.join('%.4f'%x for x in v))
