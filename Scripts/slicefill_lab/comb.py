import numpy as np
def combine(r, alpha=None, bias=1.0, vf=1.5, vp=2.0, power=2, agree=True, extra=None):
    REG=r['REG'].astype(np.float32); SH=r['SH'].astype(np.float32); w=r['w']
    if alpha is None: alpha=0.6+0.2*min(1,max(0,(r['gap']-10)/10))
    off=np.where(r['present'],0,vf*r['depth']+vp)[:,:,None,None]  # (C,2,1,1)
    wp=w**power; wp=wp/wp.sum()
    agr=r['agr'].astype(np.float32) if agree else np.ones_like(r['agr'],np.float32)
    wr=wp[:,None,None]*agr; tot=wr.sum(0); wr=np.where(tot>0,wr/np.maximum(tot,1e-30),wp[:,None,None])
    reg=(wr[None]*(REG+off)).sum(1); sh=(w[None,:,None,None]*(SH+off)).sum(1)
    D=alpha*reg+(1-alpha)*sh
    D[r['c']==0]+=bias
    if extra is not None: D=D+extra
    return D
def dice_from(preds, truths):
    # preds, truths lists of 2-D arrays; mean Dice over labels>0 in truth
    T=np.stack(truths); P=np.stack(preds)
    ls=np.unique(T[T>0]); L=int(max(T.max(),P.max()))+1
    j=np.bincount((T.ravel()*L+P.ravel()),minlength=L*L).reshape(L,L)
    inter=np.diag(j)[ls]; st=j.sum(1)[ls]; sp=j.sum(0)[ls]
    return float((2*inter/np.maximum(st+sp,1)).mean())

def van_none(r,fg,sp=2.0):
    # labels missing on one side vanish at fraction fg of the gap from the present side
    a,b=r['srcs']; span=b-a; dstar=min(max(fg*span,0.5),span-0.5)
    return np.where(r['present'],0,(r['depth']+0.5*sp)*span/dstar)
def combine_off(r,off,bias=1.0):
    REG=r['REG'].astype(np.float32); SH=r['SH'].astype(np.float32); w=r['w']
    alpha=0.6+0.2*min(1,max(0,(r['gap']-10)/10))
    o=off[:,:,None,None]
    wp=w**2; wp=wp/wp.sum(); agr=r['agr'].astype(np.float32)
    wr=wp[:,None,None]*agr; tot=wr.sum(0); wr=np.where(tot>0,wr/np.maximum(tot,1e-30),wp[:,None,None])
    D=alpha*(wr[None]*(REG+o)).sum(1)+(1-alpha)*(w[None,:,None,None]*(SH+o)).sum(1)
    D[r['c']==0]+=bias
    return D
