import sys, os, json, pickle, numpy as np
from emu import load, PROTO
from comb import *
from scipy import ndimage as ndi
P=json.load(open(PROTO)); qs={q['id']:q for q in P['B']['queries']}
res={}
data={}
for vol in ['atlas','sub-00001','sub-00002','sub-00003']:
  for N in [5,10]:
    q=qs[f'B/aal-2mm/{vol}/N{N}']; im,lb=load(q); T=q['target_slices']
    data[(vol,N)]=(pickle.load(open(os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')+f'/raw_{vol}_N{N}.pkl','rb'))['targets'],[lb[:,:,t] for t in T],T)
def auto(g,d): return d+0.2*min(1,max(0,(g-10)/10))
for bias in [0.5,1.0,1.5]:
  for da in [-0.1,0,0.1]:
    for vp in [2.0]:
      for (vol,N),(R,tr,T) in data.items():
        pr=[R[t]['c'][ndi.uniform_filter(combine(R[t],alpha=min(1,auto(R[t]['gap'],0.6+da)),bias=bias,vp=vp),(1,3,3),mode='nearest').argmin(0)] for t in T]
        res.setdefault((bias,da,N),[]).append(dice_from(pr,tr))
for k,v in sorted(res.items()): print('bias',k[0],'alpha0',0.6+k[1],'N',k[2],'%.4f'%np.mean(v),' '.join('%.4f'%x for x in v),flush=True)
