# Issue 16 (h60): Dice-aware decoding, a per-label size prior. The score is the MEAN Dice over labels, so a voxel of a
# small label weighs far more than one of a large label, while the filler's rule (smallest blended distance wins) is
# a per-voxel rule and distance interpolation shrinks small and thin labels (why background already gets +1 mm).
# Variant: every candidate label l's blended distance D_l (mm, before the 3 x 3 mean) is lowered by
#   c * min(1, r0 / r_l),  r_l = sqrt(A_l / pi) * 2 mm,  A_l = the label's larger area (px) on the two bracketing
#   labelled slices (a label present on one only: that one), r0 in mm;  background untouched.
# So labels with an equivalent radius below r0 gain c mm, larger ones c * r0 / r_l ('flat'); 'mid': times 4 f (1 - f),
# f = (t - a) / (b - a), i.e. c at mid-gap and nothing next to a labelled slice (distance interpolation shrinks most there).
# Usage: python3 exp_size.py [QUERY_ID ...]      (default all 8 setting-B queries); -> $SLICEFILL_LAB/size_<vol>_N<N>.json
import sys, json, os, time, resource, numpy as np
from emu import *
from comb import dice_from
P=json.load(open(PROTO)); qs=[q for q in P['B']['queries'] if len(sys.argv)<2 or q['id'] in sys.argv[1:]]
LAB=os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')
GRID=[(c,r0,m) for c in [0.25,0.5,1.0,1.5,2.0,3.0] for r0 in [2,4,6,10] for m in ['flat','mid']]
def box3(D): return ndi.uniform_filter(D,(1,3,3),mode='nearest')
for q in qs:
    t0=time.time(); c0=resource.getrusage(resource.RUSAGE_SELF)
    im,lb=load(q); L=q['labelled_slices']; T=q['target_slices']; N=q['N']
    up,down=chain(im,q['volume'])
    variants={'base':[]}; variants.update({g:[] for g in GRID})
    for t in T:
        cands,D,_,_,_=evidence(im,lb,L,t,up,down); variants['base'].append(cands[box3(D).argmin(0)])
        a,b=max(s for s in L if s<t),min(s for s in L if s>t)
        A=np.maximum(np.bincount(lb[:,:,a].ravel(),minlength=cands.max()+1)[cands],np.bincount(lb[:,:,b].ravel(),minlength=cands.max()+1)[cands]).astype(np.float32)
        r=np.sqrt(np.maximum(A,1)/np.pi)*2.0
        f=(t-a)/(b-a)
        for c,r0,m in GRID:
            off=np.where(cands==0,0,c*np.minimum(1,r0/r)*(1 if m=='flat' else 4*f*(1-f))).astype(np.float32)
            variants[(c,r0,m)].append(cands[box3(D-off[:,None,None]).argmin(0)])
    tr=[lb[:,:,t] for t in T]; dice={str(k):dice_from(v,tr) for k,v in variants.items()}
    c1=resource.getrusage(resource.RUSAGE_SELF)
    json.dump(dict(id=q['id'],N=N,volume=q['volume'],dice=dice,wall=time.time()-t0,cpu=(c1.ru_utime+c1.ru_stime)-(c0.ru_utime+c0.ru_stime)),open(f"{LAB}/size_{q['volume']}_N{N}.json",'w'))
    best=max((k for k in dice if k!='base'),key=lambda k: dice[k])
    print(q['id'],'base %.4f'%dice['base'],'best',best,'%.4f'%dice[best],'wall %.0fs'%(time.time()-t0),flush=True)
