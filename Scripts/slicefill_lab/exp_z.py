import sys, os, json, pickle, numpy as np
from emu import load, PROTO
from comb import *
from scipy import ndimage as ndi
P=json.load(open(PROTO)); qs={q['id']:q for q in P['B']['queries']}
res={}
for vol in ['atlas','sub-00001','sub-00002','sub-00003']:
  for N in [5,10]:
    q=qs[f'B/aal-2mm/{vol}/N{N}']; im,lb=load(q); T=q['target_slices']
    R=pickle.load(open(os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')+f'/raw_{vol}_N{N}.pkl','rb'))['targets']
    D={t:ndi.uniform_filter(combine(R[t]),(1,3,3),mode='nearest') for t in T}
    tr=[lb[:,:,t] for t in T]
    for wz in [0,0.25,0.5,1.0]:
        pr=[]
        for t in T:
            acc=D[t].copy(); n=1.0
            for u in (t-1,t+1):
                if u in D and R[u]['srcs']==R[t]['srcs']: acc+=wz*D[u]; n+=wz
            pr.append(R[t]['c'][(acc/n).argmin(0)])
        res.setdefault((wz,N),[]).append(dice_from(pr,tr))
for k,v in sorted(res.items()): print('z weight',k[0],'N',k[1],'%.4f'%np.mean(v),' '.join('%.4f'%x for x in v))
