# Issue 16 (h60): per-label registration share calibrated on the gap itself. For each gap (a, b) between labelled
# slices, the chain carries a's labels to b (nearest label at the composed map b -> a) and b's to a; per label,
# Dr = Dice of the carried labels with the other slice's true labels (mean of both directions), Ds = Dice of the two
# slices' labels in place (what the shape term assumes). A label the chain carries well across the whole gap gets
# more registered evidence, one it carries worse than in-place gets more shape:
#   alpha_l = clip(alpha0 + g * (Dr - Ds), 0, 1)      (alpha0 = the filler's gap-dependent share; background and
#   labels missing on a or b keep alpha0); control ('global', g): every label shifted by g * the gap's median (Dr - Ds);
#   ('sel', m): alpha_l = 0.9 where Dr - Ds > m, 0.3 where < -m; D_l = alpha_l * REG_l + (1 - alpha_l) * SHAPE_l (+ background bias).
# Distance N (the gap) is the targets' scale (1..N-1), unlike held-out labelled slices (2N, h37's direction 2).
# Usage: python3 exp_labalpha.py [QUERY_ID ...]   (default all 8 setting-B queries); -> $SLICEFILL_LAB/labalpha_<vol>_N<N>.json
import sys, json, os, time, resource, numpy as np
from emu import *
from comb import dice_from
P=json.load(open(PROTO)); qs=[q for q in P['B']['queries'] if len(sys.argv)<2 or q['id'] in sys.argv[1:]]
LAB=os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')
GS=[0.5,1,2,4,8]
def box3(D): return ndi.uniform_filter(D,(1,3,3),mode='nearest')
def dice_per(A,B,ls):
    return np.array([2*((A==l)&(B==l)).sum()/max(1,(A==l).sum()+(B==l).sum()) for l in ls])
for q in qs:
    t0=time.time(); c0=resource.getrusage(resource.RUSAGE_SELF)
    im,lb=load(q); L=q['labelled_slices']; T=q['target_slices']; N=q['N']
    up,down=chain(im,q['volume'])
    gapinfo={}
    for a,b in zip(L,L[1:]):
        A=lb[:,:,a]; B=lb[:,:,b]; ls=sorted((set(np.unique(A))&set(np.unique(B)))-{0})
        qx,qy=compose(up,down,b,a); Aw=A[np.clip(np.rint(qx).astype(int),0,A.shape[0]-1),np.clip(np.rint(qy).astype(int),0,A.shape[1]-1)]
        qx,qy=compose(up,down,a,b); Bw=B[np.clip(np.rint(qx).astype(int),0,B.shape[0]-1),np.clip(np.rint(qy).astype(int),0,B.shape[1]-1)]
        Dr=0.5*(dice_per(Aw,B,ls)+dice_per(Bw,A,ls)); Ds=dice_per(A,B,ls)
        gapinfo[(a,b)]=dict(zip(ls,Dr-Ds))
    variants={'base':[]}; variants.update({g:[] for g in GS}); variants.update({('sel',m):[] for m in [0.0,0.05,0.1]}); variants.update({('global',g):[] for g in GS})
    diffs=[]
    for t in T:
        cands,D,R,S,info=evidence(im,lb,L,t,up,down); variants['base'].append(cands[box3(D).argmin(0)])
        a,b=info['srcs']; al0=info['alpha']; dd=np.array([gapinfo[(a,b)].get(int(l),np.nan) for l in cands])
        diffs+=list(dd[~np.isnan(dd)])
        bias=np.where(cands==0,1.0,0.0)[:,None,None]
        for g in GS:
            al=np.where(np.isnan(dd),al0,np.clip(al0+g*np.nan_to_num(dd),0,1))[:,None,None]
            variants[g].append(cands[box3(al*R+(1-al)*S+bias).argmin(0)])
        for g in GS:   # control: the same shift for every label (the gap's median Dr - Ds): is it per label or just a larger share?
            md=np.nanmedian(dd) if (~np.isnan(dd)).any() else 0.0
            al=np.full((len(cands),1,1),np.clip(al0+g*md,0,1)); variants[('global',g)].append(cands[box3(al*R+(1-al)*S+bias).argmin(0)])
        for m in [0.0,0.05,0.1]:
            al=np.where(np.isnan(dd),al0,np.where(dd>m,0.9,np.where(dd<-m,0.3,al0)))[:,None,None]
            variants[('sel',m)].append(cands[box3(al*R+(1-al)*S+bias).argmin(0)])
    tr=[lb[:,:,t] for t in T]; dice={str(k):dice_from(v,tr) for k,v in variants.items()}
    c1=resource.getrusage(resource.RUSAGE_SELF)
    json.dump(dict(id=q['id'],N=N,volume=q['volume'],dice=dice,wall=time.time()-t0,cpu=(c1.ru_utime+c1.ru_stime)-(c0.ru_utime+c0.ru_stime),
                   diff_pct=np.percentile(diffs,[5,25,50,75,95]).tolist()),open(f"{LAB}/labalpha_{q['volume']}_N{N}.json",'w'))
    best=max((k for k in dice if k!='base'),key=lambda k: dice[k])
    print(q['id'],'base %.4f'%dice['base'],'best',best,'%.4f'%dice[best],' '.join('%s:%.4f'%(k,v) for k,v in dice.items()),
          'Dr-Ds pct 5/25/50/75/95', np.round(np.percentile(diffs,[5,25,50,75,95]),3),'wall %.0fs'%(time.time()-t0),flush=True)
