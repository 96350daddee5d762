# Issue 16 (h43): does a different slice-to-slice demons (more fine iterations, a softer field smoothing)
# change the fused filler's Dice? Chains are cached per variant. Usage: python3 exp_demons.py VARIANT QUERY_ID...
# VARIANT: fine40 (40 full-resolution iterations instead of 20), sigma075 (field sigma 0.75 px instead of 1),
# coarse80 (80 half-resolution iterations instead of 40), sigma15 (field sigma 1.5 px).
import sys, json, os, time, numpy as np
import emu
from emu import *
from comb import dice_from
variant=sys.argv[1]
P=json.load(open(PROTO)); qs=[q for q in P['B']['queries'] if q['id'] in sys.argv[2:]]
def align_v(F,M):
    scale=np.maximum(F.reshape(len(F),-1).max(1),1e-6)[:,None,None]
    f=F/scale; m=M/scale
    Z,W,H=f.shape; W2,H2=(W+1)//2,(H+1)//2
    fs={'sigma075':0.75,'sigma15':1.5}.get(variant,1.0)
    u=np.zeros((Z,W2,H2,2),np.float32)
    u=demons(halve(f),halve(m),u,80 if variant=='coarse80' else 40,fs=fs)
    gx,gy=np.meshgrid(np.arange(W,dtype=np.float32),np.arange(H,dtype=np.float32),indexing='ij')
    uf=2*sample(u,np.broadcast_to((gx-0.5)/2,(Z,W,H)),np.broadcast_to((gy-0.5)/2,(Z,W,H)))
    uf=demons(f,m,uf,40 if variant=='fine40' else 20,fs=fs)
    const=(F.reshape(Z,-1).std(1)==0)|(M.reshape(Z,-1).std(1)==0)
    uf[const]=0
    return uf
emu.align=align_v
def box3(D): return ndi.uniform_filter(D,(1,3,3),mode='nearest')
for q in qs:
    t0=time.time(); im,lb=load(q); L=q['labelled_slices']; T=q['target_slices']
    up,down=emu.chain(im,q['volume']+'_'+variant)
    pr=[]
    for t in T:
        cands,D,R,S,parts=evidence(im,lb,L,t,up,down,2.0); pr.append(cands[box3(D).argmin(0)])
    print(q['id'],variant,'%.4f'%dice_from(pr,[lb[:,:,t] for t in T]),'%.0fs'%(time.time()-t0),flush=True)
