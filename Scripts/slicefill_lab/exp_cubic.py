# Issue 16 (h43): cubic (Catmull-Rom) interpolation along z of the in-place signed distances over four
# labelled slices (a-N, a, b, b+N) instead of linear over two, where the four are equally spaced and the
# label is on all four; elsewhere the linear rule. Also for the whole fused distance (registered term
# unchanged). Usage: python3 exp_cubic.py [QUERY_ID ...]
import sys, json, os, time, numpy as np
from emu import *
from comb import dice_from
P=json.load(open(PROTO)); qs=[q for q in P['B']['queries'] if len(sys.argv)<2 or q['id'] in sys.argv[1:]]
def box3(D): return ndi.uniform_filter(D,(1,3,3),mode='nearest')
res={}
def add(name,N,v): res.setdefault(name,{5:[],10:[]})[N].append(v)
for q in qs:
    t0=time.time(); im,lb=load(q); vol=q['volume']; N=q['N']; L=q['labelled_slices']; T=q['target_slices']; sp=2.0
    up,down=chain(im,vol)
    shapes={s:slice_maps(lb[:,:,s],sp) for s in L}
    preds={}
    for t in T:
        a=max(s for s in L if s<t); b=min(s for s in L if s>t); i=L.index(a); u=(t-a)/(b-a)
        cands,D,R,S,parts=evidence(im,lb,L,t,up,down,sp)
        alpha=parts['alpha']
        bias=np.where(cands==0,0.5*sp,0)[:,None,None]
        preds.setdefault('base (fused, 3x3 mean)',[]).append(cands[box3(D).argmin(0)])
        ok=i>=1 and i+2<len(L) and (a-L[i-1])==(b-a)==(L[i+2]-b)
        for tension,name in ((1.0,'catmull-rom'),(0.5,'half catmull-rom')):
            if ok:
                p0,p3=L[i-1],L[i+2]
                w0=(-u**3+2*u**2-u)/2; w1=(3*u**3-5*u**2+2)/2; w2=(-3*u**3+4*u**2+u)/2; w3=(u**3-u**2)/2
                # tension: blend with linear weights
                lw=np.array([0,1-u,u,0]); cw=np.array([w0,w1,w2,w3]); ww=tension*cw+(1-tension)*lw
                SC=S.copy()
                for ci,l in enumerate(cands):
                    if all(l in shapes[s] for s in (p0,a,b,p3)):
                        SC[ci]=sum(wk*shapes[s][l][0] for wk,s in zip(ww,(p0,a,b,p3)))
            else:
                SC=S
            preds.setdefault(f'{name} shape only',[]).append(cands[box3(SC+bias).argmin(0)])
            preds.setdefault(f'{name} in fused',[]).append(cands[box3(alpha*R+(1-alpha)*SC+bias).argmin(0)])
        preds.setdefault('linear shape only',[]).append(cands[box3(S+bias).argmin(0)])
    tr=[lb[:,:,t] for t in T]
    for k,v in preds.items(): add(k,N,dice_from(v,tr))
    print(q['id'],'%.0fs'%(time.time()-t0),' '.join(f"{k}={res[k][N][-1]:.4f}" for k in preds),flush=True)
print()
for k,v in res.items():
    print(f'| {k} | {np.mean(v[5]) if v[5] else float("nan"):.4f} | {np.mean(v[10]) if v[10] else float("nan"):.4f} |',' '.join(f'{x:.4f}' for x in v[5]+v[10]))
