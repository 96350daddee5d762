# Issue 16 (h49): through-plane (3-D) formulations of the slice chain, against the fused filler as it is.
# VARIANT base: the chain as voxterm computes it (2-D demons per adjacent pair, independently).
# VARIANT zS (S = 0.5, 1, 2 ...): the same demons run on the whole stack at once as one 3-D registration of the
#   volume to itself shifted by one slice, in-plane displacement only (z locked), the field's Gaussian
#   regularisation extended across z with sigma S slices (both the update and the field smoothing).
# VARIANT zuS: the same, but only the update (the demons force) is smoothed across z; the field stays 2-D smoothed.
# VARIANT lcS: the chain (zS fields if S>0, else base), then per gap (a,b) a label-driven 2-D demons between the
#   labels of a carried to b by the chain and the labels of b (and the reverse); the residual is spread along the
#   gap linearly, so the corrected path from a ends exactly on b's labels ("label evidence at both ends").
# Usage: python3 exp_3d.py VARIANT [QUERY_ID ...]   (default all 8 setting-B queries)
import sys, json, os, time, numpy as np
import emu
from emu import *
from comb import dice_from
variant=sys.argv[1]
P=json.load(open(PROTO)); qs=[q for q in P['B']['queries'] if len(sys.argv)<3 or q['id'] in sys.argv[2:]]
sz=0.0; lc=False; update_only=False
if variant.startswith('zu'): sz=float(variant[2:]); update_only=True
elif variant.startswith('z'): sz=float(variant[1:])
if variant.startswith('lc'): lc=True; sz=float(variant[2:])
def smooth_z(u,s):
    if s<=0: return u
    return ndi.gaussian_filter(u,(sz,s,s,0),mode='nearest',truncate=3.0)
def demons_z(f,m,u,its):
    return emu.demons(f,m,u,its,smooth_update=smooth_z,smooth_field=smooth if update_only else smooth_z)
_align=emu.align
def align_z(F,M): return _align(F,M,demons=demons_z)
if sz>0: emu.align=align_z
def box3(D): return ndi.uniform_filter(D,(1,3,3),mode='nearest')
res={}
for q in qs:
    t0=time.time(); im,lb=load(q); L=q['labelled_slices']; T=q['target_slices']; N=q['N']
    key=q['volume']+('' if sz==0 else f'_z{sz}'+('u' if update_only else ''))
    up,down=emu.chain(im,key)
    W,H=im.shape[:2]
    gx,gy=np.meshgrid(np.arange(W,dtype=np.float32),np.arange(H,dtype=np.float32),indexing='ij')
    corr={}
    if lc:
        for a,b in zip(L,L[1:]):
            if b-a<2: continue
            ls=sorted(set(np.unique(lb[:,:,a]))|set(np.unique(lb[:,:,b])))
            Oa=onehot(lb[:,:,a],ls); Ob=onehot(lb[:,:,b],ls)
            qx,qy=compose(up,down,b,a); Oab=np.stack([bil2(o,qx,qy) for o in Oa])  # a's labels on b's grid
            rb=label_demons(Ob,Oab)          # Oab(x+rb) ~ Ob
            qx,qy=compose(up,down,a,b); Oba=np.stack([bil2(o,qx,qy) for o in Ob])
            ra=label_demons(Oa,Oba)
            corr[(a,b)]=(ra,rb)
    pr=[]
    for t in T:
        a=max(s for s in L if s<t); b=min(s for s in L if s>t); f=(t-a)/(b-a)
        ma=compose(up,down,t,a); mb=compose(up,down,t,b)
        if lc and (a,b) in corr:
            ra,rb=corr[(a,b)]
        if lc and (a,b) in corr:
            # corrected: x -> phi_{t->a}(x + f rb(phi_{t->b}(x)))
            d=bil2(rb,mb[0],mb[1]); px=gx+f*d[...,0]; py=gy+f*d[...,1]
            ma0=compose(up,down,t,a); ma=(bil2(ma0[0],px,py),bil2(ma0[1],px,py))
            mb0=compose(up,down,t,b); d=bil2(ra,ma0[0],ma0[1]); px=gx+(1-f)*d[...,0]; py=gy+(1-f)*d[...,1]
            mb=(bil2(mb0[0],px,py),bil2(mb0[1],px,py))
        cands,D,_,_,_=evidence_maps(im,lb,L,t,[ma,mb]); pr.append(cands[box3(D).argmin(0)])
    v=dice_from(pr,[lb[:,:,t] for t in T]); res.setdefault(N,[]).append(v)
    print(q['id'],variant,'%.4f'%v,'%.0fs'%(time.time()-t0),flush=True)
for N,v in sorted(res.items()): print(variant,'N',N,'%.4f ± %.4f'%(np.mean(v),np.std(v,ddof=1) if len(v)>1 else 0),' '.join('%.4f'%x for x in v))
