import sys, os, json, pickle, numpy as np
from emu import load, PROTO
from comb import *
from scipy import ndimage as ndi
P=json.load(open(PROTO)); qs={q['id']:q for q in P['B']['queries']}
def crf(D,img,tau,lam,beta,its=5):
    U=-D/tau; U=U-U.max(0,keepdims=True); Q=np.exp(U); Q/=Q.sum(0,keepdims=True)
    sh=[(1,0),(-1,0),(0,1),(0,-1)]
    ws=[]
    for dx,dy in sh:
        n=np.roll(img,(dx,dy),(0,1)); ws.append(np.exp(-beta*(img-n)**2))
    for _ in range(its):
        M=np.zeros_like(Q)
        for (dx,dy),w in zip(sh,ws): M+=w[None]*np.roll(Q,(dx,dy),(1,2))
        L=U+lam*M; L-=L.max(0,keepdims=True); Q=np.exp(L); Q/=Q.sum(0,keepdims=True)
    return Q
if __name__=="__main__":
  for vol in sys.argv[1].split(','):
    for N in [5,10]:
      q=qs[f'B/aal-2mm/{vol}/N{N}']; im,lb=load(q); T=q['target_slices']
      sc=np.percentile(im[im>0],99)
      R=pickle.load(open(os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')+f'/raw_{vol}_N{N}.pkl','rb'))['targets']
      Ds={t:combine(R[t]) for t in T}
      tr=[lb[:,:,t] for t in T]
      print(vol,N,'base %.4f'%dice_from([R[t]['c'][Ds[t].argmin(0)] for t in T],tr),flush=True)
      for tau in [0.5,1]:
          for lam in [0.25,0.5,1]:
              for beta in [0,20,100]:
                  pr=[R[t]['c'][crf(Ds[t],im[:,:,t]/sc,tau,lam,beta).argmax(0)] for t in T]
                  print(vol,N,'tau',tau,'lam',lam,'beta',beta,'%.4f'%dice_from(pr,tr),flush=True)
