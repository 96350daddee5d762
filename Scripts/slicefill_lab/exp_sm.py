import sys, os, json, pickle, numpy as np
from emu import load, PROTO
from comb import *
from scipy import ndimage as ndi
P=json.load(open(PROTO)); qs={q['id']:q for q in P['B']['queries']}
cf={'base':lambda D:D}
for s in [0.5,0.75,1.0,1.5]: cf[f'gauss {s}']=(lambda s: lambda D: ndi.gaussian_filter(D,(0,s,s),mode='nearest',truncate=2.0))(s)
cf['box3']=lambda D: ndi.uniform_filter(D,(1,3,3),mode='nearest')
cf['median3']=lambda D: ndi.median_filter(D,(1,3,3),mode='nearest')
allr={k:{5:[],10:[]} for k in cf}; allr.update({'van0.5+'+k:{5:[],10:[]} for k in cf})
for vol in ['atlas','sub-00001','sub-00002','sub-00003']:
  for N in [5,10]:
    q=qs[f'B/aal-2mm/{vol}/N{N}']; im,lb=load(q); T=q['target_slices']
    R=pickle.load(open(os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')+f'/raw_{vol}_N{N}.pkl','rb'))['targets']
    tr=[lb[:,:,t] for t in T]
    for k,f in cf.items():
        allr[k][N].append(dice_from([R[t]['c'][f(combine(R[t])).argmin(0)] for t in T],tr))
        allr['van0.5+'+k][N].append(dice_from([R[t]['c'][f(combine_off(R[t],van_none(R[t],0.5))).argmin(0)] for t in T],tr))
    print(vol,N,flush=True)
for k,v in allr.items():
    print(f'| {k} | N5 {np.mean(v[5]):.4f} ± {np.std(v[5],ddof=1):.4f} | N10 {np.mean(v[10]):.4f} ± {np.std(v[10],ddof=1):.4f} |',' '.join(f'{x:.4f}' for x in v[5]+v[10]))
