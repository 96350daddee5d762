# Issue 16 (h43): registration-based shape interpolation with half-way fields between the bracketing
# labelled slices (Penney et al. 2004) and bidirectional consistency of the chained maps as a per-pixel
# confidence of the registered evidence, against the fused filler as it is (3 x 3 distance mean).
# Usage: python3 exp_penney.py [QUERY_ID ...]   (default: all 8 setting-B queries)
import sys, json, os, time, numpy as np
from emu import *
from comb import dice_from
P=json.load(open(PROTO)); qs=[q for q in P['B']['queries'] if len(sys.argv)<2 or q['id'] in sys.argv[1:]]
def box3(D): return ndi.uniform_filter(D,(1,3,3),mode='nearest')
def pos_fixed_point(u,f,gx,gy,its=3):
    # p = x - f u(p): the point of the source slice that moves to x at fraction f of the way
    px=gx.copy(); py=gy.copy()
    for _ in range(its):
        d=bil2(u,px,py); px=gx-f*d[...,0]; py=gy-f*d[...,1]
    return px,py
def consistency(up,down,t,s,gx,gy):
    qx,qy=compose(up,down,t,s); bx,by=compose(up,down,s,t)
    # t -> s -> t round trip
    rx=bil2(bx-gx,qx,qy)+qx; ry=bil2(by-gy,qx,qy)+qy
    return np.sqrt((rx-gx)**2+(ry-gy)**2)
res={}
def add(name,N,v): res.setdefault(name,{5:[],10:[]})[N].append(v)
DIRECT={}
for q in qs:
    t0=time.time(); im,lb=load(q); vol=q['volume']; N=q['N']; L=q['labelled_slices']; T=q['target_slices']; sp=2.0
    up,down=chain(im,vol)
    W,H=im.shape[:2]
    gx,gy=np.meshgrid(np.arange(W,dtype=np.float32),np.arange(H,dtype=np.float32),indexing='ij')
    shapes={s:slice_maps(lb[:,:,s],sp) for s in L}
    gaps=[(a,b) for a,b in zip(L,L[1:]) if b-a>1]
    # a -> b fields: composed along the chain, and direct 2-D demons between the two labelled slices
    fch={}; fdi={}
    A=np.stack([im[:,:,a] for a,b in gaps]); B=np.stack([im[:,:,b] for a,b in gaps])
    uab=align(A,B); uba=align(B,A)
    for k,(a,b) in enumerate(gaps):
        qx,qy=compose(up,down,a,b); ch_ab=np.stack([qx-gx,qy-gy],-1)
        qx,qy=compose(up,down,b,a); ch_ba=np.stack([qx-gx,qy-gy],-1)
        fch[(a,b)]=(ch_ab,ch_ba); fdi[(a,b)]=(uab[k],uba[k])
    preds={}
    for t in T:
        a=max(s for s in L if s<t); b=min(s for s in L if s>t); f=(t-a)/(b-a)
        cands,D,R,S,parts=evidence(im,lb,L,t,up,down,sp)
        alpha=parts['alpha']; w=parts['w']
        bias=np.where(cands==0,0.5*sp,0)[:,None,None]
        preds.setdefault('base (fused, 3x3 mean)',[]).append(cands[box3(D).argmin(0)])
        preds.setdefault('base without 3x3 mean',[]).append(cands[D.argmin(0)])
        sh=[shapes[a],shapes[b]]
        for fname,fields in (('chain',fch),('direct',fdi)):
            u_ab,u_ba=fields[(a,b)]
            pa=pos_fixed_point(u_ab,f,gx,gy); pb=pos_fixed_point(u_ba,1-f,gx,gy); pos=[pa,pb]
            PEN=[]
            for l in cands:
                s_=0
                for k in range(2):
                    if l in sh[k]: m,dep=sh[k][l]; o=0; src=k
                    else: m,dep=sh[1-k][l]; o=1.5*dep+sp; src=1-k
                    s_=s_+w[k]*(bil2(m,pos[src][0],pos[src][1])+o)
                PEN.append(s_)
            PEN=np.stack(PEN)
            preds.setdefault(f'penney {fname}: shape only',[]).append(cands[box3(PEN+bias).argmin(0)])
            preds.setdefault(f'penney {fname} replaces in-place shape',[]).append(cands[box3(alpha*R+(1-alpha)*PEN+bias).argmin(0)])
            preds.setdefault(f'penney {fname} + in-place, halves',[]).append(cands[box3(alpha*R+(1-alpha)*(0.5*PEN+0.5*S)+bias).argmin(0)])
        # bidirectional consistency of the chained maps t->a, t->b: per-pixel share of the registered evidence
        ca=consistency(up,down,t,a,gx,gy); cb=consistency(up,down,t,b,gx,gy)
        e=w[0]*ca+w[1]*cb  # pixels
        for sig in (1.0,2.0):
            c=np.exp(-(e/sig)**2)
            al=alpha*(0.5+0.5*c)
            preds.setdefault(f'consistency: alpha x (0.5+0.5 exp(-(e/{sig})^2))',[]).append(cands[box3(al*R+(1-al)*S+bias).argmin(0)])
    tr=[lb[:,:,t] for t in T]
    for k,v in preds.items(): add(k,N,dice_from(v,tr))
    print(q['id'],'%.0fs'%(time.time()-t0),' '.join(f"{k}={res[k][N][-1]:.4f}" for k in preds),flush=True)
print()
for k,v in res.items():
    print(f'| {k} | {np.mean(v[5]):.4f} ± {np.std(v[5],ddof=1) if len(v[5])>1 else 0:.4f} | {np.mean(v[10]) if v[10] else float("nan"):.4f} ± {np.std(v[10],ddof=1) if len(v[10])>1 else 0:.4f} |',' '.join(f'{x:.4f}' for x in v[5]+v[10]))
