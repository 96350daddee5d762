# Summarise exp_ortho / exp_size / exp_labalpha results: python3 table.py PREFIX [TOP [VARIANT_KEY ...]]   (PREFIX = ortho_hard, ortho_soft, size)
# reads $SLICEFILL_LAB/PREFIX_<volume>_N<N>.json; per variant: mean ± sd over the volumes per N, change vs base,
# smallest per-volume change; sorted by the smaller of the two mean changes (one setting for both N).
import sys, os, json, glob, numpy as np
LAB=os.environ.get('SLICEFILL_LAB','/tmp/slicefill_lab'); pre=sys.argv[1]; top=int(sys.argv[2]) if len(sys.argv)>2 else 8
R={}
import re
for f in sorted(glob.glob(f'{LAB}/{pre}_*_N*.json')):
    # PREFIX_<volume>_N<N>.json only (volume names have no '_'): ortho_soft must not read ortho_soft_fs3.0_... runs.
    if not re.fullmatch(re.escape(pre) + r'_[^_]+_N\d+\.json', os.path.basename(f)): continue
    r=json.load(open(f))
    assert r['volume'] not in R.get(r['N'],{}), f'two results for {r["volume"]} N={r["N"]}: {f}'
    R.setdefault(r['N'],{})[r['volume']]=r
vols=sorted(R[5]); Ns=sorted(R)
keys=list(R[5][vols[0]]['dice'])
def row(k):
    out={}
    for N in Ns:
        v=np.array([R[N][vo]['dice'][k] for vo in vols]); b=np.array([R[N][vo]['dice']['base'] for vo in vols])
        out[N]=(v.mean(),v.std(ddof=1),(v-b).mean(),(v-b).min(),v)
    return out
rows={k:row(k) for k in keys}
order=sorted(keys,key=lambda k: -min(rows[k][N][2] for N in Ns))
print('volumes',vols)
show=['base']+(sys.argv[3:] if len(sys.argv)>3 else [k for k in order if k!='base'][:top])
for k in show:
    r=rows[k]
    print(f'| {k} | '+' | '.join(f'{r[N][0]:.4f} ± {r[N][1]:.4f} ({r[N][2]:+.4f}, min {r[N][3]:+.4f})' for N in Ns)+' | '+' / '.join(' '.join(f'{x:.4f}' for x in r[N][4]) for N in Ns)+' |')
for N in Ns:
    k=max(keys,key=lambda k: rows[k][N][2]); print(f'best at N={N} alone: {k} {rows[k][N][0]:.4f} ({rows[k][N][2]:+.4f}, min {rows[k][N][3]:+.4f})')
cpu=[R[N][vo]['cpu'] for N in Ns for vo in vols]; wall=[R[N][vo]['wall'] for N in Ns for vo in vols]
print('per query cpu %.0f-%.0f s, wall %.0f-%.0f s'%(min(cpu),max(cpu),min(wall),max(wall)))
