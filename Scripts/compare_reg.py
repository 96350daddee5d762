#!/usr/bin/env python3
"""One run, pair by pair interleaved: voxterm register (presets), ANTs SyN (ANTsPy defaults) and Greedy
(PICSL, its documented affine + deformable example), each as its own process with 2 threads; voxterm timed as a
whole process (load + register + write), the anchors around their registration calls only (no Python start-up) and by peak RSS (/usr/bin/time). Scored with nibabel: mean Dice over
the fixed map's labels, %negJ of the whole map inside the fixed mask (voxterm: its jacobian.nii.gz; anchors:
from their composed fields).

usage: compare_reg.py VOXTERM MANIFEST --ids ID... [--presets fast default] [--anchors ants greedy] [--json OUT]
                      [--voxterm-old OLD] [--voxterm-args ARG...] [--ants-metric cc|mattes] [--none]

Copy of ../shared/bench/compare_reg.py (kept in sync by hand) with: --none (Dice of the moving labels
resampled to the fixed grid with the identity map, nearest neighbour: "no registration"); --voxterm-old
(a second voxterm binary run on each pair as 'old <preset>', for before/after in one run); --voxterm-args
(extra register options, e.g. --metric mi); --ants-metric mattes (ANTsPy SyN with aff_metric="mattes",
syn_metric="mattes" for multi-modal pairs); CPU seconds (user+sys of the whole process, /usr/bin/time) in
every record; --ids all = every pair of the manifest; paths in the manifest may be absolute.
"""
import argparse, json, os, subprocess, sys, tempfile, time
import numpy as np, nibabel as nib

ENV = dict(os.environ, ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS='2', OMP_NUM_THREADS='2', OPENBLAS_NUM_THREADS='2')

def load(p):
    return np.asarray(nib.load(p).dataobj).squeeze()

def dice_mean(fixed_lab, warped):
    ds = []
    for l in np.unique(fixed_lab):
        if l == 0: continue
        x, y = fixed_lab == l, warped == l
        ds.append(2.0 * np.logical_and(x, y).sum() / (x.sum() + y.sum()))
    return float(np.mean(ds))

def timed(cmd, timeout=1800):
    tf = tempfile.mktemp()
    t = time.perf_counter()
    r = subprocess.run(['/usr/bin/time', '-f', '%U %S %M', '-o', tf] + cmd, capture_output=True, text=True,
                       env=ENV, timeout=timeout, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    try:
        u, sy, kb = open(tf).read().split()[-3:]
        mb, cpu = int(kb) / 1024, float(u) + float(sy)
    except Exception: mb = cpu = float('nan')
    return r, wall, mb, cpu

ANTS = r'''
import sys, ants
f, m, ml, out = sys.argv[1:5]
F, M, ML = ants.image_read(f), ants.image_read(m), ants.image_read(ml)
if F.dimension == 3 and F.shape[2] == 1:
    F, M, ML = (ants.slice_image(x, axis=2, idx=0) for x in (F, M, ML))
import time; t = time.perf_counter(); r = ants.registration(F, M, type_of_transform="SyN", **({"aff_metric": "mattes", "syn_metric": "mattes"} if len(sys.argv) > 5 and sys.argv[5] == "mattes" else {})); print("REG", time.perf_counter() - t)
ants.image_write(ants.apply_transforms(F, ML, r["fwdtransforms"], interpolator="genericLabel"), out + "/warped_labels.nii.gz")
ants.image_write(ants.create_jacobian_determinant_image(F, r["fwdtransforms"][0]), out + "/jac_deformable.nii.gz")
'''

GREEDY = r'''
import sys, SimpleITK as sitk
from picsl_greedy import Greedy2D, Greedy3D
f, m, ml, out = sys.argv[1:5]
sv = " -sv" if len(sys.argv) > 5 and sys.argv[5] == "sv" else ""
ims = [sitk.ReadImage(p) for p in (f, m, ml)]
dim = 2 if ims[0].GetDimension() == 3 and ims[0].GetSize()[2] == 1 else ims[0].GetDimension()
if dim == 2: ims = [im[:, :, 0] for im in ims]
paths = []
for n, im in zip(("f", "m", "ml"), ims):
    paths.append(f"{out}/g_{n}.nii.gz"); sitk.WriteImage(im, paths[-1])
f, m, ml = paths
G = Greedy3D if dim == 3 else Greedy2D
r = "x".join(["2"] * dim)
log = open(out + "/greedy.log", "w")
import time; t = time.perf_counter()
G().execute(f"-d {dim} -a -dof 12 -m NCC {r} -i {f} {m} -o {out}/affine.mat -ia-image-centers -n 100x50x10 -threads 2", out=log, err=log)
G().execute(f"-d {dim} -m NCC {r} -i {f} {m} -it {out}/affine.mat -o {out}/warp.nii.gz -n 100x50x10 -threads 2{sv}", out=log, err=log)
print("REG", time.perf_counter() - t)
G().execute(f"-d {dim} -rf {f} -ri NN -rm {ml} {out}/warped_labels.nii.gz -r {out}/warp.nii.gz {out}/affine.mat", out=log, err=log)
G().execute(f"-d {dim} -rf {f} -rc {out}/comp.nii.gz -r {out}/warp.nii.gz {out}/affine.mat", out=log, err=log)
'''

def field_negj(comp_path, mask):
    """%negJ of x -> x + u(x) from an ITK displacement image (physical LPS vectors)."""
    import SimpleITK as sitk
    j = sitk.GetArrayFromImage(sitk.DisplacementFieldJacobianDeterminant(sitk.ReadImage(comp_path, sitk.sitkVectorFloat64)))
    j = np.transpose(j).squeeze()
    return float((j[mask] <= 0).mean() * 100)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('voxterm'); ap.add_argument('manifest'); ap.add_argument('--ids', nargs='+', required=True)
    ap.add_argument('--presets', nargs='+', default=['fast', 'default'])
    ap.add_argument('--anchors', nargs='*', default=['ants', 'greedy'])
    ap.add_argument('--json', default=None)
    ap.add_argument('--voxterm-old', default=None)
    ap.add_argument('--voxterm-args', nargs='*', default=[])
    ap.add_argument('--ants-metric', default='cc', choices=['cc', 'mattes'])
    ap.add_argument('--none', action='store_true')
    a = ap.parse_args()
    man = json.load(open(a.manifest)); root = os.path.dirname(os.path.abspath(a.manifest))
    pairs = {p['id']: p for p in man['pairs']}
    recs = []
    ids = list(pairs) if a.ids == ['all'] else a.ids
    for pid in ids:
        p = pairs[pid]; g = lambda k: os.path.join(root, p[k])
        fl = load(g('fixed_labels')); mask = load(g('fixed_mask')) > 0
        if a.none:
            fi, mi = nib.load(g('fixed_labels')), nib.load(g('moving_labels'))
            from scipy import ndimage
            vox = np.linalg.inv(mi.affine) @ fi.affine
            ml = np.asarray(mi.dataobj)
            while ml.ndim < 3: ml = ml[..., None]
            res = ndimage.affine_transform(ml, vox[:3, :3], vox[:3, 3], output_shape=fi.shape[:3], order=0,
                                           mode='constant', cval=0)
            d = dice_mean(fl, np.rint(res).astype(np.int64).squeeze())
            recs.append(dict(pair=pid, method='none', dice=d, negj=0.0, seconds=0.0, cpu=0.0, peak_mb=0.0, load=os.getloadavg()[0]))
            print(f"{pid:45s} {'none':16s} dice {d:.3f}", flush=True)
        runs = [('voxterm ' + pr, pr) for pr in a.presets] + [(an, an) for an in a.anchors]
        if a.voxterm_old: runs = [('old ' + pr, pr) for pr in a.presets] + runs
        for name, what in runs:
            out = tempfile.mkdtemp(prefix='cmp-')
            if name.startswith(('voxterm', 'old')):
                exe = a.voxterm_old if name.startswith('old') else a.voxterm
                cmd = [exe, 'register', g('fixed_image'), g('moving_image'), '--moving-labels', g('moving_labels'),
                       '--out', out, '--preset', what, '--threads', '2'] + a.voxterm_args
            else:
                cmd = [sys.executable, '-c', ANTS if what == 'ants' else GREEDY, g('fixed_image'), g('moving_image'), g('moving_labels'), out]
                if what == 'greedy-sv': cmd.append('sv')
                if what == 'ants' and a.ants_metric == 'mattes': cmd.append('mattes')
            r, wall, mb, cpu = timed(cmd)
            if r.returncode:
                print(f'{pid} {name}: exit {r.returncode}: {(r.stderr or r.stdout)[-300:]}', flush=True); continue
            metric = ''
            if name.startswith(('voxterm', 'old')):
                ml_ = [l for l in (r.stderr + r.stdout).splitlines() if 'metric' in l.lower()]
                metric = ml_[0].strip()[:160] if ml_ else ''
            if not name.startswith(('voxterm', 'old')):  # anchors: timed around their registration calls, not Python start-up
                wall = float([l for l in r.stdout.splitlines() if l.startswith('REG')][-1].split()[1])
            d = dice_mean(fl, np.rint(load(out + '/warped_labels.nii.gz')).astype(np.int64))
            if name.startswith(('voxterm', 'old')):
                j = load(out + '/jacobian.nii.gz'); negj = float((j[mask] <= 0).mean() * 100)
            elif what == 'ants':
                j = load(out + '/jac_deformable.nii.gz'); negj = float((j[mask] <= 0).mean() * 100)
            else:
                negj = field_negj(out + '/comp.nii.gz', mask)
            rec = dict(pair=pid, method=name, dice=d, negj=negj, seconds=wall, cpu=cpu, peak_mb=mb,
                       load=os.getloadavg()[0], metric=metric)
            recs.append(rec)
            print(f"{pid:45s} {name:16s} dice {d:.3f} negJ {negj:.4f}% {wall:6.2f} s cpu {cpu:6.2f} s {mb:6.0f} MB load {rec['load']:.1f} {metric}", flush=True)
            subprocess.run(['rm', '-rf', out])
    methods = list(dict.fromkeys(r['method'] for r in recs))
    print('\n| method | pairs | Dice mean | %negJ max | s median | CPU s median | time ratio vs ants (median per pair) | peak MB max |')
    print('|---|---|---|---|---|---|---|---|')
    for m in methods:
        rs = [r for r in recs if r['method'] == m]
        ratios = []
        for r in rs:
            b = [x for x in recs if x['pair'] == r['pair'] and x['method'] == 'ants']
            if b: ratios.append(r['seconds'] / b[0]['seconds'])
        print(f"| {m} | {len(rs)} | {np.mean([r['dice'] for r in rs]):.3f} | {max(r['negj'] for r in rs):.4f} | "
              f"{np.median([r['seconds'] for r in rs]):.2f} | {np.median([r['cpu'] for r in rs]):.2f} | {np.median(ratios) if ratios else float('nan'):.3f} | {max(r['peak_mb'] for r in rs):.0f} |")
    if a.json: json.dump(recs, open(a.json, 'w'), indent=1)

main()
