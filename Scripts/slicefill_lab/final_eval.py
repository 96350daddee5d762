import sys, os, json, pickle, numpy as np, itertools
from emu import load, PROTO
from comb import *  # combine, dice_from, van_none, combine_off
from exp_crf import crf
from scipy import ndimage as ndi
P=json.load(open(PROTO)); qs={q['id']:q for q in P['B']['queries']}
rows={}
for vol in ['atlas','sub-00001','sub-00002','sub-00003']:
  for N in [5,10]:
    q=qs[f'B/aal-2mm/{vol}/N{N}']; im,lb=load(q); T=q['target_slices']; L=q['labelled_slices']
    RR=pickle.load(open(os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')+f'/raw_{vol}_N{N}.pkl','rb')); R=RR['targets']; H=RR['held']
    tr=[lb[:,:,t] for t in T]
    def ev(fn, part=R): return dice_from([part[t]['c'][fn(part[t],t).argmin(0)] for t in part],[lb[:,:,t] for t in part])
    res={}
    res['base']=ev(lambda r,t: combine(r))
    res['shape only']=ev(lambda r,t: combine(r,alpha=0.0))
    # appearance: joint histogram (intensity, smoothed) per label from labelled slices, fg/bg and per label
    nb=24; lo,hi=np.percentile(im[im>0],[0.5,99.5]); s1=ndi.gaussian_filter(im,(1,1,0))
    bf=lambda x: np.clip(((x-lo)/(hi-lo)*nb).astype(int),0,nb-1); J=bf(im)*nb+bf(s1)
    Hh=np.zeros((lb.max()+1,nb*nb))
    for s in L: np.add.at(Hh,(lb[:,:,s].ravel(),J[:,:,s].ravel()),1)
    def ll(Hc):
        h=ndi.gaussian_filter(Hc.reshape(-1,nb,nb),(0,1,1))+1.0/(nb*nb); h/=h.sum((1,2),keepdims=True); return np.log(h).reshape(-1,nb*nb)
    LL=ll(Hh); LF=ll(np.stack([Hh[0],Hh[1:].sum(0)]))
    for b in [0.1,0.25,0.5]:
        res[f'appearance per label b={b}']=ev(lambda r,t: combine(r)-b*LL[r['c']][:,J[:,:,t]])
        res[f'appearance fg/bg b={b}']=ev(lambda r,t: combine(r)+np.where((r['c']==0)[:,None,None],-b*(LF[0]-LF[1])[J[:,:,t]][None],0))
    # self-supervised choice of (alpha, bias) on held-out labelled slices
    best=None
    for al,bi in itertools.product([None,0.4,0.6,0.8,1.0],[0,1,2]):
        h=ev(lambda r,t: combine(r,alpha=al,bias=bi),H)
        if best is None or h>best[0]: best=(h,al,bi)
    res['self-supervised alpha,bias']=ev(lambda r,t: combine(r,alpha=best[1],bias=best[2])); res['  (picked)']=str(best[1:])
    # self-supervised appearance weight
    bestb=max([0,0.1,0.25,0.5],key=lambda b: ev(lambda r,t: combine(r)+np.where((r['c']==0)[:,None,None],-b*(LF[0]-LF[1])[J[:,:,t]][None],0),H))
    res['self-supervised appearance fg/bg']=ev(lambda r,t: combine(r)+np.where((r['c']==0)[:,None,None],-bestb*(LF[0]-LF[1])[J[:,:,t]][None],0)); res['  (picked b)']=bestb
    for fg in [0.4,0.5]:
        res[f'vanish at {fg} of gap']=ev(lambda r,t: combine_off(r,van_none(r,fg)))
    sc=np.percentile(im[im>0],99)
    res['CRF beta=0 tau1 lam1']=ev(lambda r,t: -crf(combine(r),im[:,:,t]/sc,1,1,0))
    res['CRF beta=20 tau1 lam1']=ev(lambda r,t: -crf(combine(r),im[:,:,t]/sc,1,1,20))
    res['vanish 0.5 + CRF beta=0']=ev(lambda r,t: -crf(combine_off(r,van_none(r,0.5)),im[:,:,t]/sc,1,1,0))
    rows[(vol,N)]=res
    print(vol,N,json.dumps({k:(round(v,4) if isinstance(v,float) else v) for k,v in res.items()}),flush=True)
pickle.dump(rows,open(os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')+'/final_rows.pkl','wb'))
keys=[k for k in rows[('atlas',5)] if not k.startswith('  ')]
for N in [5,10]:
    print(f'\nN={N}')
    for k in keys:
        v=np.array([rows[(vol,N)][k] for vol in ['atlas','sub-00001','sub-00002','sub-00003']])
        print(f'| {k} | {v.mean():.4f} ± {v.std(ddof=1):.4f} | '+' '.join(f'{x:.4f}' for x in v))
