# Python emulation of voxterm's fused slice filler (SlicePropagation.swift / ShapeInterpolation.swift / SliceDemons.swift)
import hashlib, nibabel as nib, numpy as np, json, sys, os, time
from scipy import ndimage as ndi
BD=os.environ.get('FEWSHOT_DIR','/work/shared/bench/fewshot')+'/'
PROTO=BD+os.environ.get('FEWSHOT_PROTOCOL','protocol-dev.json')  # e.g. protocol-real.json from Scripts/fewshot_real
def load(q):
    im=nib.load(os.path.join(BD,q['image'])).get_fdata().astype(np.float32)
    lb=np.asarray(nib.load(os.path.join(BD,q['truth_labels'])).dataobj).astype(np.int32)
    return im, lb
def halve(a):  # a [Z,W,H]
    Z,W,H=a.shape; W2,H2=(W+1)//2,(H+1)//2
    p=np.pad(a,((0,0),(0,2*W2-W),(0,2*H2-H)))
    c=np.pad(np.ones((W,H),np.float32),((0,2*W2-W),(0,2*H2-H)))
    s=p.reshape(Z,W2,2,H2,2).sum((2,4)); n=c.reshape(W2,2,H2,2).sum((1,3))
    return s/n
def sample(a, qx, qy):  # a [Z,W,H] (or [Z,W,H,2]); qx,qy [Z,W,H] ; clamp
    Z,W,H=a.shape[:3]
    cx=np.clip(qx,0,W-1); cy=np.clip(qy,0,H-1)
    x0=np.minimum(cx.astype(np.int32),max(W-2,0)); y0=np.minimum(cy.astype(np.int32),max(H-2,0))
    x1=np.minimum(x0+1,W-1); y1=np.minimum(y0+1,H-1)
    tx=cx-x0; ty=cy-y0
    zi=np.arange(Z)[:,None,None]*np.ones_like(x0)
    if a.ndim==4: tx=tx[...,None]; ty=ty[...,None]
    return (a[zi,x0,y0]*(1-tx)+a[zi,x1,y0]*tx)*(1-ty)+(a[zi,x0,y1]*(1-tx)+a[zi,x1,y1]*tx)*ty
def grad(a):
    return np.stack(np.gradient(a,axis=(1,2)),-1)
def smooth(u,s):
    if s<=0: return u
    return ndi.gaussian_filter(u,(0,s,s,0),mode='nearest',truncate=3.0)
def demons(f,m,u,its,maxStep=0.5,us=1.0,fs=1.0,smooth_update=None,smooth_field=None):
    # smooth_update / smooth_field: other smoothings of the update and the field (exp_3d: across z too)
    su=smooth_update or smooth; sf=smooth_field or smooth
    Z,W,H=f.shape
    gx,gy=np.meshgrid(np.arange(W,dtype=np.float32),np.arange(H,dtype=np.float32),indexing='ij')
    gf=grad(f)
    for _ in range(its):
        wp=sample(m,gx[None]+u[...,0],gy[None]+u[...,1])
        diff=wp-f; gm=grad(wp); gr=0.5*(gf+gm)
        den=(gr*gr).sum(-1)+diff*diff
        step=np.where(den[...,None]<1e-12,0,-(diff/np.maximum(den,1e-12))[...,None]*gr)
        ln=np.sqrt((step*step).sum(-1)); sc=np.where(ln>maxStep,maxStep/np.maximum(ln,1e-12),1)
        step=step*sc[...,None]
        u=u+su(step,us); u=sf(u,fs)
    return u
def align(F,M,demons=demons):  # batch: F,M [Z,W,H] -> pixel displacement [Z,W,H,2]
    scale=np.maximum(F.reshape(len(F),-1).max(1),1e-6)[:,None,None]
    f=F/scale; m=M/scale
    Z,W,H=f.shape; W2,H2=(W+1)//2,(H+1)//2
    u=np.zeros((Z,W2,H2,2),np.float32)
    u=demons(halve(f),halve(m),u,40)
    gx,gy=np.meshgrid(np.arange(W,dtype=np.float32),np.arange(H,dtype=np.float32),indexing='ij')
    uf=2*sample(u,np.broadcast_to((gx-0.5)/2,(Z,W,H)),np.broadcast_to((gy-0.5)/2,(Z,W,H)))
    uf=demons(f,m,uf,20)
    const=(F.reshape(Z,-1).std(1)==0)|(M.reshape(Z,-1).std(1)==0)
    uf[const]=0
    return uf
def onehot(lab,ls,s=1.0):
    return np.stack([ndi.gaussian_filter((lab==l).astype(np.float32),s,mode='nearest') for l in ls])
def label_demons(F,M,its=40,maxStep=0.5,sig=1.0):
    """multi-channel demons: F,M [C,W,H] smoothed one-hot; returns u [W,H,2] with M(x+u) ~ F(x)
    (update and field smoothed with sig px; exp_3d's label-corrected path, exp_oracle's ceiling)"""
    C,W,H=F.shape
    gx,gy=np.meshgrid(np.arange(W,dtype=np.float32),np.arange(H,dtype=np.float32),indexing='ij')
    gf=np.stack(np.gradient(F,axis=(1,2)),-1)
    u=np.zeros((W,H,2),np.float32)
    for _ in range(its):
        wp=sample(M,np.broadcast_to(gx+u[...,0],(C,W,H)),np.broadcast_to(gy+u[...,1],(C,W,H)))
        diff=wp-F; gm=np.stack(np.gradient(wp,axis=(1,2)),-1); gr=0.5*(gf+gm)
        num=(diff[...,None]*gr).sum(0); den=(gr*gr).sum((0,-1))+(diff*diff).sum(0)
        step=np.where(den[...,None]<1e-9,0,-num/np.maximum(den,1e-9)[...,None])
        ln=np.sqrt((step*step).sum(-1)); sc=np.where(ln>maxStep,maxStep/np.maximum(ln,1e-12),1)
        step=step*sc[...,None]
        u=u+ndi.gaussian_filter(step,(sig,sig,0),mode='nearest'); u=ndi.gaussian_filter(u,(sig,sig,0),mode='nearest')
    return u
CACHE=os.path.join(os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab'),'chain')
def chain(im, key):
    # keyed by the image's bytes too: two protocols with a volume of the same name never share a chain
    os.makedirs(CACHE,exist_ok=True); p=f'{CACHE}/{key}-{hashlib.sha256(np.ascontiguousarray(im).tobytes()).hexdigest()[:12]}.npz'
    if os.path.exists(p):
        d=np.load(p); return d['up'],d['down']
    S=np.moveaxis(im,2,0)  # [Z,W,H]
    up=align(S[:-1],S[1:])    # up[z]: z -> z+1
    down=align(S[1:],S[:-1])  # down[z+1]: z+1 -> z ; store as down[z] for z>=1
    down=np.concatenate([np.zeros_like(down[:1]),down])
    np.savez(p,up=up,down=down); return up,down
def compose(up,down,t,src):
    W,H=up.shape[1:3]
    gx,gy=np.meshgrid(np.arange(W,dtype=np.float32),np.arange(H,dtype=np.float32),indexing='ij')
    qx=gx.copy(); qy=gy.copy()
    steps=range(t,src,-1) if t>src else range(t,src)
    for z in steps:
        f=(down[z] if t>src else up[z])[None]
        d=sample(f,qx[None],qy[None])[0]; qx=qx+d[...,0]; qy=qy+d[...,1]
    return qx,qy
def sdmap(mask,sp=2.0):
    if not mask.any(): return None
    din=ndi.distance_transform_edt(~mask,sampling=sp); dout=ndi.distance_transform_edt(mask,sampling=sp)
    half=0.5*sp
    return np.where(mask,-(dout-half),din-half).astype(np.float32)
def slice_maps(lab,sp=2.0,far=24.0):
    out={}
    for l in np.unique(lab):
        m=sdmap(lab==l,sp); out[int(l)]=(np.minimum(m,far) if l!=0 else m, float(max(0,-m.min())))
    return out
def bil2(a,qx,qy):
    return sample(a[None],qx[None],qy[None])[0]
def local_ms(a,b,r=2):
    return ndi.uniform_filter((a-b)**2,size=2*r+1,mode='nearest')
def linfit(x,y):
    m=(x!=0)|(y!=0); x=x[m].astype(np.float64); y=y[m].astype(np.float64)
    if len(x)<2 or x.var()<1e-12: return 1.0,0.0
    a=np.cov(x,y,bias=True)[0,1]/x.var(); return a,(y.mean()-a*x.mean())
def bracket(labelled,t):
    """the labelled slices [a,b] nearest t on either side, their weights [(b-t)/(b-a),(t-a)/(b-a)], and b-a"""
    a=max(s for s in labelled if s<t); b=min(s for s in labelled if s>t)
    span=b-a; return [a,b],[(b-t)/span,(t-a)/span],span
def agreement(im,t,srcs,maps):
    """per source slice: how well it agrees with slice t once warped by its map (t -> source), (W,H) each"""
    fixed=im[:,:,t]; sq=[]
    for s,(qx,qy) in zip(srcs,maps):
        wpd=bil2(im[:,:,s],qx,qy); A,B=linfit(wpd.ravel(),fixed.ravel()); sq.append(local_ms(fixed,A*wpd+B))
    scale=max(1e-6,np.percentile(im[im!=0],99)); eps=1e-4*scale*scale
    h=np.minimum(sq[0],sq[1]); return [np.exp(-d/(h+eps)) for d in sq]
def evidence(im,lb,labelled,t,up,down,sp=2.0,alpha=None):
    """per-candidate fused distance D (C,W,H), candidates list, plus parts (maps t -> a, b from the chain)"""
    srcs,_,_=bracket(labelled,t)
    return evidence_maps(im,lb,labelled,t,[compose(up,down,t,s) for s in srcs],sp,alpha)
def evidence_maps(im,lb,labelled,t,maps,sp=2.0,alpha=None):
    """evidence() with the maps t -> a and t -> b given (e.g. corrected ones)"""
    srcs,w,span=bracket(labelled,t)
    gap=span*sp
    if alpha is None: alpha=0.6+0.2*min(1,max(0,(gap-10)/10))
    agr=agreement(im,t,srcs,maps)
    r=np.array([w[0]**2,w[1]**2]); wp=r/r.sum()
    wr=np.stack([wp[0]*agr[0],wp[1]*agr[1]]); tot=wr.sum(0); wr=np.where(tot>0,wr/np.maximum(tot,1e-30),wp[:,None,None])
    sh=[slice_maps(lb[:,:,s],sp) for s in srcs]
    cands=sorted(set(sh[0])|set(sh[1]))
    D=[];R=[];S=[]
    for l in cands:
        reg=0; shp=0
        for k in range(2):
            if l in sh[k]: m,dep=sh[k][l]; o=0; f=k
            else: m,dep=sh[1-k][l]; o=1.5*dep+1*sp; f=1-k
            reg=reg+wr[k]*(bil2(m,maps[f][0],maps[f][1]) + o)  # note: Swift samples other source's map at q[from]
            shp=shp+w[k]*(m+o)
        d=alpha*reg+(1-alpha)*shp
        if l==0: d=d+0.5*sp
        D.append(d);R.append(reg);S.append(shp)
    return np.array(cands),np.stack(D),np.stack(R),np.stack(S),dict(alpha=alpha,w=w,srcs=srcs,maps=maps)
def dice_score(truth,pred,targets):
    T=truth[:,:,targets]; P=pred[:,:,targets]
    ls=[l for l in np.unique(T) if l>0]
    ds=[]
    for l in ls:
        a=T==l; b=P==l; ds.append(2*(a&b).sum()/(a.sum()+b.sum()))
    return float(np.mean(ds))
