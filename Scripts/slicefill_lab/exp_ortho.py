# Issue 16 (h60): through-plane transport along the orthogonal planes as new evidence for slice filling.
# In every coronal plane (fixed y, an X x Z image) and every sagittal plane (fixed x, Y x Z) the labelled axial
# slices are known ROWS z = a, b, ... Adjacent coronal planes (y -> y+1, y -> y-1) and adjacent sagittal planes
# (x -> x+-1) are registered with the lab's 2-D demons (emu.align = SliceDemonsAligner's emulation); the field has a
# z component. From every target voxel (x, y, t) a path is followed along y (both ways, coronal chain) and along x
# (both ways, sagittal chain) for up to K planes; where it first crosses a labelled row (necessarily a or b, the
# rows bracketing t) the label there is read (nearest column on the crossing's nearer plane). So each target voxel
# gets up to 4 "arrivals" (label, number of planes k). Only the labelled rows' labels are read.
# Fusion: D_l(x) -= beta * sum_arrivals w(k) [l == arrival label] (mm; D = the fused filler's blended distance
# before the 3 x 3 mean), w(k) = exp(-floor(k)/kappa); then the 3 x 3 mean and argmin as the filler does.
# First prints the oracle-free bound statistics (how often an arrival carries the true label where the fused
# prediction is wrong, how often arrivals disagree with a right fused prediction), then Dice for a small grid.
# Usage: python3 exp_ortho.py [QUERY_ID ...]      (default: all 8 setting-B queries); results -> $SLICEFILL_LAB/ortho_*.json
import sys, json, os, time, resource, numpy as np
import emu
from emu import *
from comb import dice_from
P=json.load(open(PROTO)); qs=[q for q in P['B']['queries'] if len(sys.argv)<2 or q['id'] in sys.argv[1:]]
KMAX=int(os.environ.get('ORTHO_K','10'))
FS=float(os.environ.get('ORTHO_FS','1'))   # field smoothing (px) of the orthogonal planes' demons; 1 = the filler's SliceDemonsAligner
LAB=os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab')

def ortho_chain(S, key):
    """S [P,W,Z] stack of planes; up[p]: plane p -> p+1, down[p]: p -> p-1 (down[0] = 0), pixel displacements (dw, dz)"""
    os.makedirs(emu.CACHE,exist_ok=True)
    p=f'{emu.CACHE}/{key}-{__import__("hashlib").sha256(np.ascontiguousarray(S).tobytes()).hexdigest()[:12]}.npz'
    if os.path.exists(p): d=np.load(p); return d['up'],d['down']
    dem=lambda f,m,u,its: emu.demons(f,m,u,its,fs=FS)
    up=align(S[:-1],S[1:],demons=dem); down=align(S[1:],S[:-1],demons=dem); down=np.concatenate([np.zeros_like(down[:1]),down])
    up=np.concatenate([up,np.zeros_like(up[:1])])
    np.savez(p,up=up,down=down); return up,down

def psample(a, pi, qx, qy):
    """bilinear sample of a [P,W,Z,2] at plane index pi (int array), (qx, qy) continuous, clamped"""
    P_,W,H=a.shape[:3]
    cx=np.clip(qx,0,W-1); cy=np.clip(qy,0,H-1)
    x0=np.minimum(cx.astype(np.int32),W-2); y0=np.minimum(cy.astype(np.int32),H-2); x1=x0+1; y1=y0+1
    tx=(cx-x0)[...,None]; ty=(cy-y0)[...,None]
    return (a[pi,x0,y0]*(1-tx)+a[pi,x1,y0]*tx)*(1-ty)+(a[pi,x0,y1]*(1-tx)+a[pi,x1,y1]*tx)*ty

def arrivals(up, down, LS, T, L, K):
    """paths from every (p, w, t), t in T, along +p and -p for K planes; first crossing of a labelled row.
    returns per direction (label [P,W,nT] with -1 = none, k [P,W,nT] float planes travelled)"""
    P_,W,Z=LS.shape; T=np.array(T)
    A=np.array([max(s for s in L if s<t) for t in T]); B=np.array([min(s for s in L if s>t) for t in T])
    out=[]
    for sgn,F in ((1,up),(-1,down)):
        pi=np.broadcast_to(np.arange(P_)[:,None,None],(P_,W,len(T))).copy()
        qw=np.broadcast_to(np.arange(W,dtype=np.float32)[None,:,None],pi.shape).astype(np.float32)
        qz=np.broadcast_to(T.astype(np.float32)[None,None,:],pi.shape).astype(np.float32)
        lab=np.full(pi.shape,-1,np.int32); kk=np.zeros(pi.shape,np.float32); alive=np.ones(pi.shape,bool)
        cp=np.zeros(pi.shape,np.float32); cw=np.zeros(pi.shape,np.float32); crow=np.full(pi.shape,-1,np.int32)
        Aa=np.broadcast_to(A[None,None,:],pi.shape); Bb=np.broadcast_to(B[None,None,:],pi.shape)
        for k in range(1,K+1):
            nxt=pi+sgn; ok=alive&(nxt>=0)&(nxt<P_)
            d=psample(F,np.clip(pi,0,P_-1),qw,qz)
            nw=qw+d[...,0]; nz=qz+d[...,1]
            ca=ok&(nz<=Aa); cb=ok&(nz>=Bb)&~ca
            for cr,row in ((ca,Aa),(cb,Bb)):
                if not cr.any(): continue
                f=(qz[cr]-row[cr])/np.where(qz[cr]!=nz[cr],qz[cr]-nz[cr],1)   # fraction of the step at the crossing
                f=np.clip(f,0,1); wc=qw[cr]+f*(nw[cr]-qw[cr])
                pl=np.where(f<0.5,pi[cr],nxt[cr]); col=np.clip(np.rint(wc).astype(np.int32),0,W-1)
                lab[cr]=LS[pl,col,row[cr]]; kk[cr]=k-1+f
                cp[cr]=pi[cr]+sgn*f; cw[cr]=wc; crow[cr]=row[cr]
            alive=ok&~ca&~cb
            qw=np.where(ok,nw,qw); qz=np.where(ok,nz,qz); pi=np.where(ok,nxt,pi)
            if not alive.any(): break
        out.append((lab,kk,cp,cw,crow))
    return out

def box3(D): return ndi.uniform_filter(D,(1,3,3),mode='nearest')
def gather(stack, xs, ys):
    """bilinear sample of stack [C,X,Y] at (xs, ys) [X,Y] (clamped) -> [C,X,Y]"""
    C,W,H=stack.shape; cx=np.clip(xs,0,W-1); cy=np.clip(ys,0,H-1)
    x0=np.minimum(cx.astype(np.int32),W-2); y0=np.minimum(cy.astype(np.int32),H-2); tx=cx-x0; ty=cy-y0
    return (stack[:,x0,y0]*(1-tx)+stack[:,x0+1,y0]*tx)*(1-ty)+(stack[:,x0,y0+1]*(1-tx)+stack[:,x0+1,y0+1]*tx)*ty
# hard: vote of the arrival labels, D -= beta * sum w(k) [l == label]; grid beta x kappa x K
HARD=[(b,ka,K) for b in [0.5,1,2,4] for ka in [2,5,1e9] for K in [3,6,10]]
# soft: each arrival is a map of the target voxel onto the crossed labelled slice (a or b); the candidates' signed
#   distances there (absent label: the other slice's distance + 1.5 depth + 2 mm, as the fused rule) are averaged over
#   the arrivals with w(k) = exp(-floor(k)/kappa) (x image agreement if 'img'), and mixed in: D' = (1-m) D + m O,
#   m = gamma (any arrival, 'any') or gamma * sum(w)/4 ('w'); grid gamma x kappa x K x rule
SOFT=[(g,ka,K,r) for g in [0.1,0.2,0.35,0.5] for ka in [2,1e9] for K in [3,10] for r in ['any','w','img']]
MODE=os.environ.get('ORTHO_MODE','hard')
for q in qs:
    t0=time.time(); c0=resource.getrusage(resource.RUSAGE_SELF)
    im,lb=load(q); L=q['labelled_slices']; T=q['target_slices']; N=q['N']; X,Y,Z=im.shape
    LS=np.zeros_like(lb); LS[:,:,L]=lb[:,:,L]          # only the labelled slices are read
    up,down=chain(im,q['volume'])
    sfx='' if FS==1 else f'_fs{FS}'
    cu,cd=ortho_chain(np.ascontiguousarray(im.transpose(1,0,2)),q['volume']+'_cor'+sfx)   # [Y,X,Z]
    su,sd=ortho_chain(np.ascontiguousarray(im),q['volume']+'_sag'+sfx)                    # [X,Y,Z]
    t1=time.time()
    arr=[]   # per direction: label, k, crossing x, crossing y, crossed row; each [X,Y,nT]
    for (lab,kk,cp,cw,crow) in arrivals(cu,cd,np.ascontiguousarray(LS.transpose(1,0,2)),T,L,KMAX):
        arr.append(tuple(a.transpose(1,0,2) for a in (lab,kk,cw,cp,crow)))
    for (lab,kk,cp,cw,crow) in arrivals(su,sd,LS,T,L,KMAX): arr.append((lab,kk,cp,cw,crow))
    t2=time.time()
    truth=lb[:,:,T]
    grid=HARD if MODE=='hard' else SOFT
    variants={'base':[]}; variants.update({g:[] for g in grid})
    stats=dict(copy_ok_at_arr=0,vox=0,fused_wrong=0,rescuable=0,vote_right_fused_wrong=0,vote_wrong_fused_right=0,covered=0,arr_n=0,arr_ok=0,fused_ok_at_arr=0)
    byk=np.zeros((KMAX+1,3))   # per k bin: arrivals, arrivals right, fused right at those voxels
    smaps={}; scale=max(1e-6,np.percentile(im[im!=0],99)); Ibar=ndi.uniform_filter(im,(3,3,1),mode='nearest')
    for j,t in enumerate(T):
        cands,D,_,_,_=evidence(im,lb,L,t,up,down); base=cands[box3(D).argmin(0)]; variants['base'].append(base)
        tr=truth[:,:,j]; roi=(tr>0)|(base>0)
        lut=np.full(int(max(cands.max(),lb.max()))+2,-1,np.int64); lut[cands]=np.arange(len(cands))
        V=[(np.where(lab[:,:,j]>=0,lut[np.maximum(lab[:,:,j],0)],-1),kk[:,:,j]) for lab,kk,*_ in arr]
        # bound statistics (every arrival within KMAX, unweighted)
        got=np.zeros(tr.shape,bool); vote=np.zeros((len(cands),)+tr.shape,np.float32)
        for (idx,k),(lab,_,_,_,crow) in zip(V,arr):
            has=idx>=0; got|=has&(lab[:,:,j]==tr)
            cr=crow[:,:,j]; cpy=np.where(cr>=0,LS[np.arange(X)[:,None],np.arange(Y)[None,:],np.maximum(cr,0)],-1)  # the crossed row's label at the same (x,y): no through-plane shift
            stats['copy_ok_at_arr']+=int((cpy[has&roi]==tr[has&roi]).sum())
            np.add.at(vote,(idx[has],)+np.nonzero(has),1.0)
            m=has&roi; stats['arr_n']+=int(m.sum()); stats['arr_ok']+=int((lab[:,:,j][m]==tr[m]).sum()); stats['fused_ok_at_arr']+=int((base[m]==tr[m]).sum())
            kb=np.minimum(np.floor(k[m]).astype(int),KMAX)
            np.add.at(byk[:,0],kb,1); np.add.at(byk[:,1],kb,(lab[:,:,j][m]==tr[m]).astype(float)); np.add.at(byk[:,2],kb,(base[m]==tr[m]).astype(float))
        anyv=vote.sum(0)>0; vm=cands[vote.argmax(0)]
        fw=roi&(base!=tr)
        stats['vox']+=int(roi.sum()); stats['fused_wrong']+=int(fw.sum()); stats['rescuable']+=int((fw&got).sum())
        stats['covered']+=int((roi&anyv).sum())
        stats['vote_right_fused_wrong']+=int((fw&anyv&(vm==tr)).sum()); stats['vote_wrong_fused_right']+=int((roi&anyv&(base==tr)&(vm!=tr)).sum())
        if MODE=='hard':
            for K in [3,6,10]:
                for ka in [2,5,1e9]:
                    E=np.zeros_like(D)
                    for idx,k in V:
                        m=(idx>=0)&(k<K)
                        if m.any(): np.add.at(E,(idx[m],)+np.nonzero(m),np.exp(-np.floor(k[m])/ka).astype(np.float32))
                    for b in [0.5,1,2,4]: variants[(b,ka,K)].append(cands[box3(D-b*E).argmin(0)])
        else:
            a,b=max(s for s in L if s<t),min(s for s in L if s>t)
            for s in (a,b):
                if s not in smaps: smaps[s]=slice_maps(lb[:,:,s],2.0)
            # per candidate: signed distance on a and on b (absent: the other slice's map pushed out, as evidence())
            SA=[];SB=[]
            for l in cands:
                l=int(l)
                ma=smaps[a][l][0] if l in smaps[a] else smaps[b][l][0]+1.5*smaps[b][l][1]+2.0
                mb=smaps[b][l][0] if l in smaps[b] else smaps[a][l][0]+1.5*smaps[a][l][1]+2.0
                SA.append(ma); SB.append(mb)
            SA=np.stack(SA); SB=np.stack(SB); bg=np.where(cands==0,1.0,0.0)[:,None,None].astype(np.float32)
            ODs=[]
            for lab,kk,xs,ys,crow in arr:
                xs_,ys_,r_,k_=xs[:,:,j],ys[:,:,j],crow[:,:,j],kk[:,:,j]
                valid=r_>=0
                O=np.where((r_==a)[None],gather(SA,xs_,ys_),gather(SB,xs_,ys_))+bg
                It=Ibar[:,:,t]; Ir=np.where(r_==a,bil2(Ibar[:,:,a],xs_,ys_),bil2(Ibar[:,:,b],xs_,ys_))
                ag=np.exp(-0.5*((It-Ir)/(0.1*scale))**2)
                ODs.append((O,valid,k_,ag))
            for K in [3,10]:
                for ka in [2,1e9]:
                    for rule in ['any','w','img']:
                        num=np.zeros_like(D); den=np.zeros(D.shape[1:],np.float32)
                        for O,valid,k_,ag in ODs:
                            w=np.where(valid&(k_<K),np.exp(-np.floor(k_)/ka),0).astype(np.float32)
                            if rule=='img': w=w*ag
                            num+=w[None]*O; den+=w
                        Om=num/np.maximum(den,1e-12)[None]
                        for g in [0.1,0.2,0.35,0.5]:
                            m=np.where(den>0,g,0) if rule=='any' else g*np.minimum(den/4,1)
                            Dp=D+m[None]*(Om-D)
                            variants[(g,ka,K,rule)].append(cands[box3(Dp).argmin(0)])
    tr=[truth[:,:,j] for j in range(len(T))]
    dice={str(k):dice_from(v,tr) for k,v in variants.items()}
    c1=resource.getrusage(resource.RUSAGE_SELF)
    rec=dict(id=q['id'],N=N,volume=q['volume'],mode=MODE,dice=dice,stats=stats,byk=byk.tolist(),wall=time.time()-t0,trace_wall=t2-t1,
             cpu=(c1.ru_utime+c1.ru_stime)-(c0.ru_utime+c0.ru_stime))
    json.dump(rec,open(f"{LAB}/ortho_{MODE}{sfx}_{q['volume']}_N{N}.json",'w'))
    s=stats; best=max((k for k in dice if k!='base'),key=lambda k: dice[k])
    print(q['id'],MODE,'base %.4f'%dice['base'],'best',best,'%.4f'%dice[best],
          '| roi vox',s['vox'],'fused wrong %.3f'%(s['fused_wrong']/s['vox']),'covered %.3f'%(s['covered']/s['vox']),
          'rescuable (truth among arrivals, fused wrong) %.3f of roi'%(s['rescuable']/s['vox']),
          'vote right & fused wrong %.4f, vote wrong & fused right %.4f'%(s['vote_right_fused_wrong']/s['vox'],s['vote_wrong_fused_right']/s['vox']),
          'arrival acc %.3f vs fused %.3f vs crossed row copied in place %.3f at same voxels'%(s['arr_ok']/max(s['arr_n'],1),s['fused_ok_at_arr']/max(s['arr_n'],1),s['copy_ok_at_arr']/max(s['arr_n'],1)),
          'by k:',' '.join('%d:%d/%.2f/%.2f'%(k,n,a/max(n,1),f/max(n,1)) for k,(n,a,f) in enumerate(byk) if n>0),
          'wall %.0fs trace %.0fs cpu %.0fs'%(rec['wall'],rec['trace_wall'],rec['cpu']),flush=True)
