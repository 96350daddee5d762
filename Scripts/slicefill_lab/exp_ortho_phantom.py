# Issue 16 (h60): check of exp_ortho.py's machinery on a phantom where through-plane transport must work: one coronal
# slice of the dev atlas (image and labels) sheared by SHIFT px in z per plane over 40 planes (a coherently tilted
# anatomy), labelled rows every 10. Prints the z displacement the coronal demons measures (expected SHIFT) and how
# often the arrivals carry the right label. Usage: python3 exp_ortho_phantom.py [SHIFT]   (default 0.5)
import sys, json, numpy as np
shift=float(sys.argv[1]) if len(sys.argv)>1 else 0.5
sys.argv=[sys.argv[0],'none']            # exp_ortho's query filter: none (only its functions are used)
exec(open(__file__.replace('exp_ortho_phantom.py','exp_ortho.py')).read().split('def box3')[0])
P=json.load(open(PROTO)); q=P['B']['queries'][0]; im,lb=load(q); Y=40
vol=np.stack([ndi.shift(im[:,54,:],(0,shift*y),order=1,mode='nearest') for y in range(Y)],1)      # vol[x,y,z] = f(x, z - s y)
lbv=np.stack([ndi.shift(lb[:,54,:],(0,shift*y),order=0,mode='nearest') for y in range(Y)],1)
S=np.ascontiguousarray(vol.transpose(1,0,2))
up=align(S[:-1],S[1:]); dn=align(S[1:],S[:-1])
m=S[:-1]>0.1*S.max()
print('coronal demons: mean dz %.3f px where tissue (expected %.2f), mean dx %.3f'%(up[...,1][m].mean(),shift,up[...,0][m].mean()))
L=list(range(10,81,10)); T=[t for t in range(11,80) if t not in L]
LS=np.zeros_like(lbv); LS[:,:,L]=lbv[:,:,L]
up=np.concatenate([up,np.zeros_like(up[:1])]); dn=np.concatenate([np.zeros_like(dn[:1]),dn])
tr=lbv.transpose(1,0,2)[:,:,T]
for name,(lab,kk,*_) in zip(('+y','-y'),arrivals(up,dn,np.ascontiguousarray(LS.transpose(1,0,2)),T,L,10)):
    mm=(lab>=0)&((tr>0)|(lab>0)); print(name,'arrivals',int(mm.sum()),'right %.3f'%(lab[mm]==tr[mm]).mean(),'mean planes %.1f'%kk[mm].mean())
