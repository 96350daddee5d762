# Issue 16 (h60): per-label registration share from how much the label's boundary is an image edge on the labelled
# slices. exp_labalpha.py showed a label map made of intensity edges (the ICBM GM/WM map) wants a much larger image
# share (+0.02..0.03) while AAL parcels want the filler's 0.6; here the signal is measured where it is known exactly:
# on the bracketing labelled slices, e_l = mean gradient magnitude (Gaussian 0.7 px) on the label's boundary pixels
# (4-neighbour of another label or background) / mean gradient magnitude over the image's nonzero pixels, averaged
# over a and b. alpha_l = clip(alpha0 + h (e_l - e0), lo, 1), lo = alpha0 ('up': never less image) or 0 ('both').
# Usage: python3 exp_edge.py [QUERY_ID ...]   -> $SLICEFILL_LAB/edge_<vol>_N<N>.json
import sys, json, os, time, resource, numpy as np
from emu import *
from comb import dice_from
P=json.load(open(PROTO)); qs=[q for q in P['B']['queries'] if len(sys.argv)<2 or q['id'] in sys.argv[1:]]
LAB=os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')
GRID=[(h,e0,m) for h in [0.1,0.2,0.4,0.8] for e0 in [1.0,1.5,2.0] for m in ['up','both']]
def box3(D): return ndi.uniform_filter(D,(1,3,3),mode='nearest')
def edgeness(img,lab):
    g=ndi.gaussian_gradient_magnitude(img.astype(np.float32),0.7,mode='nearest'); ref=g[img!=0].mean() if (img!=0).any() else 1.0
    bd=np.zeros(lab.shape,bool)
    for ax in (0,1):
        d=np.diff(lab,axis=ax)!=0
        if ax==0: bd[1:]|=d; bd[:-1]|=d
        else: bd[:,1:]|=d; bd[:,:-1]|=d
    out={}
    for l in np.unique(lab):
        m=bd&(lab==l)
        if l!=0 and m.any(): out[int(l)]=float(g[m].mean()/max(ref,1e-9))
    return out
for q in qs:
    t0=time.time(); c0=resource.getrusage(resource.RUSAGE_SELF)
    im,lb=load(q); L=q['labelled_slices']; T=q['target_slices']; N=q['N']
    up,down=chain(im,q['volume'])
    E={s:edgeness(im[:,:,s],lb[:,:,s]) for s in L}
    variants={'base':[]}; variants.update({g:[] for g in GRID}); allE=[]
    for t in T:
        cands,D,R,S,info=evidence(im,lb,L,t,up,down); variants['base'].append(cands[box3(D).argmin(0)])
        a,b=info['srcs']; al0=info['alpha']
        e=np.array([np.mean([E[s][int(l)] for s in (a,b) if int(l) in E[s]]) if any(int(l) in E[s] for s in (a,b)) else np.nan for l in cands])
        allE+=list(e[~np.isnan(e)])
        bias=np.where(cands==0,1.0,0.0)[:,None,None]
        for h,e0,m in GRID:
            al=np.where(np.isnan(e),al0,np.clip(al0+h*(np.nan_to_num(e,nan=e0)-e0),al0 if m=='up' else 0,1))[:,None,None]
            variants[(h,e0,m)].append(cands[box3(al*R+(1-al)*S+bias).argmin(0)])
    tr=[lb[:,:,t] for t in T]; dice={str(k):dice_from(v,tr) for k,v in variants.items()}
    c1=resource.getrusage(resource.RUSAGE_SELF)
    pct=np.percentile(allE,[5,25,50,75,95]).tolist()
    json.dump(dict(id=q['id'],N=N,volume=q['volume'],dice=dice,edge_pct=pct,wall=time.time()-t0,cpu=(c1.ru_utime+c1.ru_stime)-(c0.ru_utime+c0.ru_stime)),open(f"{LAB}/edge_{q['volume']}_N{N}.json",'w'))
    best=max((k for k in dice if k!='base'),key=lambda k: dice[k])
    print(q['id'],'base %.4f'%dice['base'],'best',best,'%.4f'%dice[best],'edgeness pct 5/25/50/75/95',np.round(pct,2),'wall %.0fs'%(time.time()-t0),flush=True)
