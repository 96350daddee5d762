#!/usr/bin/env python3
"""One run, pair by pair interleaved: voxterm register (presets), ANTs SyN (ANTsPy defaults) and Greedy
(PICSL, its documented affine + deformable example), each as its own process with 2 threads; voxterm timed as a
whole process (load + register + write), the anchors around their registration calls only (no Python start-up) and by peak RSS (/usr/bin/time). Scored with nibabel: mean Dice over
the fixed map's labels, %negJ of the whole map inside the fixed mask (voxterm: its jacobian.nii.gz; anchors:
from their composed fields).

usage: compare_reg.py VOXTERM MANIFEST --ids ID... [--presets fast default] [--anchors ants greedy] [--json OUT]
                      [--voxterm-old OLD] [--voxterm-args ARG...] [--ants-metric cc|mattes] [--none]
                      [--labels-by tool|same-nearest|same-generic ...] [--check-labels]

Copy of ../shared/bench/compare_reg.py (kept in sync by hand) with: --none (Dice of the moving labels
resampled to the fixed grid with the identity map, nearest neighbour: "no registration"); --voxterm-old
(a second voxterm binary run on each pair as 'old <preset>', for before/after in one run); --voxterm-args
(extra register options, e.g. --voxterm-args=--metric=mi: an option starting with "-" must be glued to
--voxterm-args with "=", as argparse reads a lone "--metric" as its own); --ants-metric mattes (ANTsPy SyN with aff_metric="mattes",
syn_metric="mattes" for multi-modal pairs); CPU seconds (user+sys of the whole process, /usr/bin/time) in
every record; --ids all = every pair of the manifest; paths in the manifest may be absolute.

Label instrument. By default (--labels-by tool) each tool's labels are warped the way compare_reg always did:
voxterm by its own default (GenericLabel, or whatever --voxterm-args says), ANTs with genericLabel, Greedy with
-ri NN, --none by scipy's nearest neighbour; so the tables compare label interpolations as well as
registrations (nearest favours the synthetic atlas -> subject pairs, whose truths are nearest resamplings).
--labels-by same-nearest and/or same-generic (several modes at once: every mode is scored from the same
registration run, one record per mode, method "NAME (MODE)"; add tool to keep today's records too) warps the
moving labels of EVERY method with one Python sampler (sample_labels) from the method's own map fixed voxel ->
moving point: voxterm from its written field.nii.gz (LPS vectors) and affine.txt (x -> A(x + u(x)), RAS);
ANTs from its fwdtransforms composed by antsApplyTransforms into one displacement field (ANTsPy
apply_transforms(compose=...), in a separate untimed process after the registration process, which only
copies the transforms: ANTs' CPU and peak MB stay those of tool mode); Greedy from its -rc composed field
(comp.nii.gz, already written for %negJ); --none from the identity (fixed world = moving world). same-nearest:
the nearest voxel (ITK rounding); same-generic: ANTs' GenericLabel (per label, the trilinear weights of the 8
neighbours summed, the largest wins, exact ties to the smaller label); outside (nearest voxel off the grid) 0.
%negJ and times are those of the one registration run.
--check-labels validates the sampler on every pair and method: identity maps (voxel indices, voxterm's
files, a zero ITK field, the identity world map) and a one-voxel shift reproduce the moving labels; the
world identity from a copy of the moving labels reoriented by nibabel as_reoriented (an axis permutation with
a flip: PSR, or LIP if the labels are stored PSR; a 2-D map: x and y swapped, one flipped) and cropped
unevenly (its origin moves) reproduces the copy through voxterm's files (zero field on the copy's grid),
a zero ITK field on it (SimpleITK geometry) and the nibabel affines, with both samplers; Python
nearest = scipy's for --none; Python generic / nearest = voxterm's own warped_labels (a second voxterm run
with the other --label-interpolation, after checking its field and affine are identical); Python generic /
nearest = ANTs' genericLabel / nearestNeighbor output; Python nearest = Greedy's -ri NN output. It prints
"check ..." lines with the number of voxels that differ. An 'old' run (--voxterm-old) is checked against its
own warped labels only if that binary's register --help names --label-interpolation and generic (a binary
from before GenericLabel warps labels its own way; the check line says it was skipped).
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
import time; t = time.perf_counter(); r = ants.registration(F, M, type_of_transform="SyN", **({"aff_metric": "mattes", "syn_metric": "mattes"} if "mattes" in sys.argv[5:] else {})); print("REG", time.perf_counter() - t)
ants.image_write(ants.apply_transforms(F, ML, r["fwdtransforms"], interpolator="genericLabel"), out + "/warped_labels.nii.gz")
ants.image_write(ants.create_jacobian_determinant_image(F, r["fwdtransforms"][0]), out + "/jac_deformable.nii.gz")
if "compose" in sys.argv[5:]:  # keep the transforms for ANTS_POST (a separate, untimed process)
    import shutil, json
    kept = []
    for k, t in enumerate(r["fwdtransforms"]):
        kept.append(out + f"/fwd{k}_" + t.split("/")[-1]); shutil.copy(t, kept[-1])
    json.dump(kept, open(out + "/fwd.json", "w"))
'''

ANTS_POST = r'''
import sys, json, ants
f, ml, out = sys.argv[1:4]
F, ML = ants.image_read(f), ants.image_read(ml)
if F.dimension == 3 and F.shape[2] == 1:
    F, ML = (ants.slice_image(x, axis=2, idx=0) for x in (F, ML))
fwd = json.load(open(out + "/fwd.json"))
# the whole fixed -> moving map as one ITK displacement field on the fixed grid (antsApplyTransforms compose)
ants.apply_transforms(F, ML, fwd, compose=out + "/ants_")  # writes ants_comptx.nii.gz
if "check" in sys.argv[4:]:
    ants.image_write(ants.apply_transforms(F, ML, fwd, interpolator="nearestNeighbor"), out + "/warped_labels_nn.nii.gz")
'''

GREEDY = r'''
import sys, SimpleITK as sitk
from picsl_greedy import Greedy2D, Greedy3D
f, m, ml, out = sys.argv[1:5]
sv = " -sv" if "sv" in sys.argv[5:] else ""
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

# --- One label instrument for every tool (--labels-by same-nearest / same-generic) -------------------------
# Each tool's own transform gives, for every fixed voxel, a continuous voxel index q of the moving label map
# (the composed map fixed voxel -> moving point, as that tool defines it); one sampler then reads the labels.

def sample_labels(L, q, how):
    """Labels of the integer map L (x, y, z) at continuous voxel indices q (..., 3); 0 outside.
    Inside = the nearest voxel is on the grid, i.e. q in [-0.5, size - 0.5) on every axis (ITK's buffer test;
    the nearest voxel is floor(q + 0.5), ITK's rounding). 'nearest': that voxel's label (ITK
    NearestNeighborInterpolateImageFunction, Greedy -ri NN, voxterm --label-interpolation nearest).
    'generic': ANTs' GenericLabel with its linear kernel (ITK LabelImageGenericInterpolateImageFunction;
    voxterm's default): the 2 x 2 x 2 neighbours floor(q) + {0, 1} clamped to the grid, trilinear weights; each
    label's weight is summed over the corners holding it; the largest wins, exact ties to the smaller label."""
    shape = q.shape[:-1]; q = q.reshape(-1, 3)
    s = np.array(L.shape[:3])
    out = np.zeros(len(q), np.int64)
    with np.errstate(invalid='ignore'):
        fin = np.all(np.abs(q) < 1e9, axis=1)           # NaN or huge (degenerate map): outside
        r = np.floor(np.where(fin[:, None], q, 0) + 0.5)
    inside = fin & np.all((r >= 0) & (r < s), axis=1)
    idx = np.nonzero(inside)[0]
    if how == 'nearest':
        ri = r[idx].astype(np.intp)
        out[idx] = L[ri[:, 0], ri[:, 1], ri[:, 2]]
        return out.reshape(shape)
    assert how == 'generic', how
    for c0 in range(0, len(idx), 1 << 20):
        ii = idx[c0:c0 + (1 << 20)]
        qq = q[ii]; f = np.floor(qq); t = qq - f; f = f.astype(np.intp)
        C = np.empty((len(ii), 8), np.int64); W = np.empty((len(ii), 8))
        for c in range(8):
            d = (c & 1, (c >> 1) & 1, c >> 2)
            ix = [np.clip(f[:, a] + d[a], 0, s[a] - 1) for a in range(3)]
            C[:, c] = L[ix[0], ix[1], ix[2]]
            W[:, c] = ((t[:, 0] if d[0] else 1 - t[:, 0]) * (t[:, 1] if d[1] else 1 - t[:, 1])
                       * (t[:, 2] if d[2] else 1 - t[:, 2]))
        res = C[:, 0].copy()
        mixed = np.nonzero(~np.all(C == C[:, :1], axis=1))[0]  # inside a region every corner holds one label
        if len(mixed):
            Cm, Wm = C[mixed], W[mixed]
            S = np.zeros(Wm.shape)
            for j in range(8):                          # label weight of corner k: sum over corners j of its label
                S += np.where(Cm == Cm[:, j:j + 1], Wm[:, j:j + 1], 0.0)
            best = S.max(axis=1, keepdims=True)
            res[mixed] = np.where(S == best, Cm, np.iinfo(np.int64).max).min(axis=1)
        out[ii] = res
    return out.reshape(shape)

def moving_label_map(path):
    """The moving label map as integers, x fastest, always 3-D (a 2-D map gets z of size 1)."""
    L = np.rint(np.asarray(nib.load(path).dataobj)).astype(np.int64)
    while L.ndim > 3 and L.shape[-1] == 1: L = L[..., 0]
    while L.ndim < 3: L = L[..., None]
    return L

def points_voxterm(out, moving_labels):
    """voxterm's map: fixed voxel i -> x = F i (RAS mm, the grid of field.nii.gz = the fixed grid) ->
    A (x + u(x)), u = field.nii.gz (5-D, LPS vectors: x and y negated back to RAS), A = affine.txt (RAS, fixed
    world -> moving world) -> moving voxel index through the moving labels' affine (nibabel)."""
    fimg = nib.load(out + '/field.nii.gz')
    u = np.asarray(fimg.dataobj, dtype=np.float64)
    u = u.reshape(u.shape[:3] + (u.shape[-1],))
    u[..., 0] *= -1; u[..., 1] *= -1
    A = np.loadtxt(out + '/affine.txt')
    return points_ras(fimg.affine, u, A, nib.load(moving_labels).affine)

def points_ras(fixed_affine, u, A, moving_affine):
    idx = np.indices(u.shape[:3]).reshape(3, -1).astype(np.float64)
    x = fixed_affine[:3, :3] @ idx + fixed_affine[:3, 3:] + u.reshape(-1, 3).T
    y = A[:3, :3] @ x + A[:3, 3:]
    v = np.linalg.inv(moving_affine)
    return (v[:3, :3] @ y + v[:3, 3:]).T.reshape(u.shape[:3] + (3,))

def points_itk(comp_path, moving_labels):
    """An ITK tool's composed map (ANTs' antsApplyTransforms compose / Greedy -rc): a displacement image d on the
    fixed grid, LPS physical vectors: fixed voxel i -> p = o + D diag(s) i (LPS) -> p + d(p) -> moving continuous
    index through the moving labels' ITK geometry (SimpleITK, as the tool read it; a 2-D map: its z = 0 slice)."""
    import SimpleITK as sitk
    img = sitk.ReadImage(comp_path, sitk.sitkVectorFloat64)
    dim = img.GetDimension()
    d = sitk.GetArrayFromImage(img)                      # (z,) y, x, component
    d = d.transpose(list(range(dim))[::-1] + [dim])       # x, y, (z,) component
    geo = lambda im: (np.array(im.GetOrigin()), np.array(im.GetDirection()).reshape(dim, dim) * np.array(im.GetSpacing()))
    o, M = geo(img)
    ml = sitk.ReadImage(moving_labels)
    if dim == 2 and ml.GetDimension() == 3: ml = ml[:, :, 0]
    om, Mm = geo(ml)
    idx = np.indices(d.shape[:dim]).reshape(dim, -1).astype(np.float64)
    y = o[:, None] + M @ idx + d.reshape(-1, dim).T
    q = (np.linalg.inv(Mm) @ (y - om[:, None])).T.reshape(d.shape[:dim] + (dim,))
    if dim == 2: q = np.concatenate([q[:, :, None, :], np.zeros(q.shape[:2] + (1, 1))], axis=-1)
    return q

def points_identity(fixed_labels, moving_labels):
    """No registration: fixed voxel -> fixed world (RAS, nibabel) -> moving voxel index."""
    fi, mi = nib.load(fixed_labels), nib.load(moving_labels)
    shape = (fi.shape + (1, 1))[:3]
    return points_ras(fi.affine, np.zeros(shape + (3,)), np.eye(4), mi.affine)

def identity_checks(moving_labels, tmp):
    """The instrument through identity maps reproduces the moving labels (each reader, both samplers), and a
    one-voxel shift along x moves them by one voxel (0 entering at the edge)."""
    import SimpleITK as sitk
    L = moving_label_map(moving_labels); aff = nib.load(moving_labels).affine
    bad = {}
    q = np.moveaxis(np.indices(L.shape).astype(np.float64), 0, -1)
    # voxterm's files: identity affine.txt and a zero field.nii.gz (5-D) on the moving grid.
    np.savetxt(tmp + '/affine.txt', np.eye(4), header='identity')
    nib.save(nib.Nifti1Image(np.zeros(L.shape + (1, 3), np.float32), aff), tmp + '/field.nii.gz')
    # ITK: a zero displacement image on the moving grid (2-D map: 2-D image).
    ref = sitk.ReadImage(moving_labels)
    if ref.GetDimension() == 3 and ref.GetSize()[2] == 1: ref = ref[:, :, 0]
    zero = sitk.Image(ref.GetSize(), sitk.sitkVectorFloat64, ref.GetDimension()); zero.CopyInformation(ref)
    sitk.WriteImage(zero, tmp + '/zero.nii.gz')
    shifted = np.zeros_like(L); shifted[:-1] = L[1:]
    for how in ('nearest', 'generic'):
        for name, qq, want in (('index', q, L), ('voxterm files', points_voxterm(tmp, moving_labels), L),
                               ('ITK field', points_itk(tmp + '/zero.nii.gz', moving_labels), L),
                               ('identity world', points_identity(moving_labels, moving_labels), L),
                               ('shift +1 x', q + np.array([1.0, 0, 0]), shifted)):
            bad[f'{how} {name}'] = int((sample_labels(L, qq, how) != want).sum())
    # World identity across grids: a copy of the moving labels reoriented (an axis permutation with a flip,
    # nibabel as_reoriented), cropped unevenly (so its origin moves) and stored with its own affine; its voxels
    # -> world -> moving voxel indices, through each reader, must give back the copy's labels.
    img = nib.load(moving_labels)
    cur = nib.orientations.aff2axcodes(img.affine)
    if L.shape[2] > 1:
        target = ('P', 'S', 'R') if cur != ('P', 'S', 'R') else ('L', 'I', 'P')
    else:  # a 2-D map: swap and flip x and y in plane, keep the slice axis
        flip = {'R': 'L', 'L': 'R', 'A': 'P', 'P': 'A', 'S': 'I', 'I': 'S'}
        target = (flip[cur[1]], cur[0], cur[2])
    ro = img.as_reoriented(nib.orientations.ornt_transform(nib.orientations.io_orientation(img.affine),
                                                           nib.orientations.axcodes2ornt(target)))
    ro = ro.slicer[tuple(slice(2, -3) if n > 8 else slice(None) for n in ro.shape[:2])
                   + ((slice(3, -1) if ro.shape[2] > 8 else slice(None)),)]
    copy = nib.Nifti1Image(np.rint(np.asarray(ro.dataobj)).astype(np.int32), ro.affine)
    nib.save(copy, tmp + '/reoriented.nii.gz')
    C = moving_label_map(tmp + '/reoriented.nii.gz')
    nib.save(nib.Nifti1Image(np.zeros(C.shape + (1, 3), np.float32), copy.affine), tmp + '/field.nii.gz')
    ref = sitk.ReadImage(tmp + '/reoriented.nii.gz')
    if ref.GetDimension() == 3 and ref.GetSize()[2] == 1: ref = ref[:, :, 0]
    zero = sitk.Image(ref.GetSize(), sitk.sitkVectorFloat64, ref.GetDimension()); zero.CopyInformation(ref)
    sitk.WriteImage(zero, tmp + '/zero.nii.gz')
    tag = ''.join(target) + ' ' + 'x'.join(map(str, C.shape))
    for how in ('nearest', 'generic'):
        for name, qq in (('voxterm files', points_voxterm(tmp, moving_labels)),
                         ('ITK field', points_itk(tmp + '/zero.nii.gz', moving_labels)),
                         ('identity world', points_identity(tmp + '/reoriented.nii.gz', moving_labels))):
            bad[f'{how} {name} from {tag}'] = int((sample_labels(L, qq, how).reshape(C.shape) != C).sum())
    return bad

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
    ap.add_argument('--labels-by', nargs='+', default=['tool'], choices=['tool', 'same-nearest', 'same-generic'])
    ap.add_argument('--check-labels', action='store_true')
    a = ap.parse_args()
    same = [m for m in a.labels_by if m != 'tool']
    how_of = {'same-nearest': 'nearest', 'same-generic': 'generic'}
    man = json.load(open(a.manifest)); root = os.path.dirname(os.path.abspath(a.manifest))
    pairs = {p['id']: p for p in man['pairs']}
    recs = []
    ids = list(pairs) if a.ids == ['all'] else a.ids

    def check(pid, name, mine, how, theirs_path, theirs_label):
        theirs = np.rint(load(theirs_path)).astype(np.int64)
        mine = mine.squeeze()
        n = int((mine != theirs).sum()) if mine.shape == theirs.shape else -1
        print(f"check {pid} {name}: python {how} vs {theirs_label}: {n} of {theirs.size} voxels differ", flush=True)

    old_has_generic = False
    if a.voxterm_old and a.check_labels:
        h = subprocess.run([a.voxterm_old, 'register', '--help'], capture_output=True, text=True)
        old_has_generic = '--label-interpolation' in h.stdout + h.stderr and 'generic' in h.stdout + h.stderr
    for pid in ids:
        p = pairs[pid]; g = lambda k: os.path.join(root, p[k])
        fl = load(g('fixed_labels')); mask = load(g('fixed_mask')) > 0
        L = moving_label_map(g('moving_labels')) if (same or a.check_labels) else None
        if a.check_labels:
            tmp = tempfile.mkdtemp(prefix='cmp-id-')
            bad = identity_checks(g('moving_labels'), tmp)
            subprocess.run(['rm', '-rf', tmp])
            print(f"check {pid} identity (voxels differing from the moving labels, {L.size} each): "
                  + ', '.join(f'{k} {v}' for k, v in bad.items()), flush=True)
        if a.none:
            fi, mi = nib.load(g('fixed_labels')), nib.load(g('moving_labels'))
            from scipy import ndimage
            vox = np.linalg.inv(mi.affine) @ fi.affine
            ml = np.asarray(mi.dataobj)
            while ml.ndim < 3: ml = ml[..., None]
            res = ndimage.affine_transform(ml, vox[:3, :3], vox[:3, 3], output_shape=fi.shape[:3], order=0,
                                           mode='constant', cval=0)
            if 'tool' in a.labels_by:
                d = dice_mean(fl, np.rint(res).astype(np.int64).squeeze())
                recs.append(dict(pair=pid, method='none', dice=d, negj=0.0, seconds=0.0, cpu=0.0, peak_mb=0.0, load=os.getloadavg()[0]))
                print(f"{pid:45s} {'none':16s} dice {d:.3f}", flush=True)
            if same or a.check_labels:
                q = points_identity(g('fixed_labels'), g('moving_labels'))
                if a.check_labels:
                    n = int((sample_labels(L, q, 'nearest') != np.rint(res).astype(np.int64)).sum())
                    print(f"check {pid} none: python nearest vs scipy affine_transform order 0: {n} of {res.size} voxels differ", flush=True)
                for mode in same:
                    d = dice_mean(fl, sample_labels(L, q, how_of[mode]).squeeze())
                    recs.append(dict(pair=pid, method=f'none ({mode})', labels=mode, dice=d, negj=0.0, seconds=0.0,
                                     cpu=0.0, peak_mb=0.0, load=os.getloadavg()[0]))
                    print(f"{pid:45s} {'none (' + mode + ')':32s} dice {d:.4f}", flush=True)
        runs = [('voxterm ' + pr, pr) for pr in a.presets] + [(an, an) for an in a.anchors]
        if a.voxterm_old: runs = [('old ' + pr, pr) for pr in a.presets] + runs
        for name, what in runs:
            out = tempfile.mkdtemp(prefix='cmp-')
            is_vox = name.startswith(('voxterm', 'old'))
            if is_vox:
                exe = a.voxterm_old if name.startswith('old') else a.voxterm
                cmd = [exe, 'register', g('fixed_image'), g('moving_image'), '--moving-labels', g('moving_labels'),
                       '--out', out, '--preset', what, '--threads', '2'] + a.voxterm_args
            else:
                cmd = [sys.executable, '-c', ANTS if what == 'ants' else GREEDY, g('fixed_image'), g('moving_image'), g('moving_labels'), out]
                if what == 'greedy-sv': cmd.append('sv')
                if what == 'ants' and a.ants_metric == 'mattes': cmd.append('mattes')
                if what == 'ants' and (same or a.check_labels): cmd.append('compose')
            r, wall, mb, cpu = timed(cmd)
            if r.returncode:
                print(f'{pid} {name}: exit {r.returncode}: {(r.stderr or r.stdout)[-300:]}', flush=True); continue
            if what == 'ants' and (same or a.check_labels):  # compose (+ nearest warp): untimed, own process
                rp = subprocess.run([sys.executable, '-c', ANTS_POST, g('fixed_image'), g('moving_labels'), out]
                                    + (['check'] if a.check_labels else []), capture_output=True, text=True,
                                    env=ENV, stdin=subprocess.DEVNULL)
                if rp.returncode:
                    print(f'{pid} {name}: compose exit {rp.returncode}: {(rp.stderr or rp.stdout)[-300:]}', flush=True); continue
            metric = ''
            if is_vox:
                ml_ = [l for l in (r.stderr + r.stdout).splitlines() if 'metric' in l.lower()]
                metric = ml_[0].strip()[:160] if ml_ else ''
            if not is_vox:  # anchors: timed around their registration calls, not Python start-up
                wall = float([l for l in r.stdout.splitlines() if l.startswith('REG')][-1].split()[1])
            d = dice_mean(fl, np.rint(load(out + '/warped_labels.nii.gz')).astype(np.int64))
            if is_vox:
                j = load(out + '/jacobian.nii.gz'); negj = float((j[mask] <= 0).mean() * 100)
            elif what == 'ants':
                j = load(out + '/jac_deformable.nii.gz'); negj = float((j[mask] <= 0).mean() * 100)
            else:
                negj = field_negj(out + '/comp.nii.gz', mask)
            base = dict(pair=pid, method=name, dice=d, negj=negj, seconds=wall, cpu=cpu, peak_mb=mb,
                        load=os.getloadavg()[0], metric=metric)
            if 'tool' in a.labels_by:
                rec = dict(base); recs.append(rec)
                print(f"{pid:45s} {name:16s} dice {d:.3f} negJ {negj:.4f}% {wall:6.2f} s cpu {cpu:6.2f} s {mb:6.0f} MB load {rec['load']:.1f} {metric}", flush=True)
            if same or a.check_labels:
                q = (points_voxterm(out, g('moving_labels')) if is_vox else
                     points_itk(out + ('/ants_comptx.nii.gz' if what == 'ants' else '/comp.nii.gz'), g('moving_labels')))
                lab = {how: sample_labels(L, q, how) for how in ('nearest', 'generic')
                       if a.check_labels or 'same-' + how in same}
                for mode in same:
                    rec = dict(base, method=f'{name} ({mode})', labels=mode, dice=dice_mean(fl, lab[how_of[mode]].squeeze()))
                    recs.append(rec)
                    print(f"{pid:45s} {rec['method']:32s} dice {rec['dice']:.4f} negJ {negj:.4f}% {wall:6.2f} s cpu {cpu:6.2f} s {mb:6.0f} MB load {rec['load']:.1f}", flush=True)
                if a.check_labels:
                    if is_vox and name.startswith('old') and not old_has_generic:
                        print(f"check {pid} {name}: voxterm's own warped labels not compared: {a.voxterm_old} register "
                              "--help names no --label-interpolation generic (a binary from before GenericLabel warps "
                              "labels its own way, so a mismatch would be no fault of the sampler)", flush=True)
                    elif is_vox:
                        va = [y for x in a.voxterm_args for y in (x.split('=', 1) if x.startswith('--label-interpolation=') else [x])]
                        li = [k for k, x in enumerate(va[:-1]) if x == '--label-interpolation']
                        own = va[li[-1] + 1] if li else 'generic'
                        args2 = [x for k, x in enumerate(va) if not any(k in (j, j + 1) for j in li)]
                        other = 'generic' if own == 'nearest' else 'nearest'
                        check(pid, name, lab[own], own, out + '/warped_labels.nii.gz', f'voxterm {own}')
                        # The other interpolation: a second run with it (the registration is deterministic:
                        # the field and affine must come out identical, checked here).
                        out2 = tempfile.mkdtemp(prefix='cmp-')
                        r2 = subprocess.run(cmd[:cmd.index('--out') + 1] + [out2, '--preset', what, '--threads', '2'] + args2
                                            + ['--label-interpolation', other, '--quiet'], capture_output=True, text=True, env=ENV)
                        same_map = (r2.returncode == 0 and np.array_equal(load(out + '/field.nii.gz'), load(out2 + '/field.nii.gz'))
                                    and open(out + '/affine.txt').read() == open(out2 + '/affine.txt').read())
                        print(f"check {pid} {name}: second run with --label-interpolation {other}: field and affine identical: {same_map}", flush=True)
                        if same_map: check(pid, name, lab[other], other, out2 + '/warped_labels.nii.gz', f'voxterm {other}')
                        subprocess.run(['rm', '-rf', out2])
                    elif what == 'ants':
                        check(pid, name, lab['generic'], 'generic', out + '/warped_labels.nii.gz', 'ANTs genericLabel')
                        check(pid, name, lab['nearest'], 'nearest', out + '/warped_labels_nn.nii.gz', 'ANTs nearestNeighbor')
                    else:
                        check(pid, name, lab['nearest'], 'nearest', out + '/warped_labels.nii.gz', 'Greedy -ri NN')
            subprocess.run(['rm', '-rf', out])
    methods = list(dict.fromkeys(r['method'] for r in recs))
    fmt = '.4f' if same else '.3f'
    print('\n| method | pairs | Dice mean | %negJ max | s median | CPU s median | time ratio vs ants (median per pair) | peak MB max |')
    print('|---|---|---|---|---|---|---|---|')
    for m in methods:
        rs = [r for r in recs if r['method'] == m]
        ratios = []
        for r in rs:
            b = [x for x in recs if x['pair'] == r['pair'] and x['method'].split(' (')[0] == 'ants']
            if b: ratios.append(r['seconds'] / b[0]['seconds'])
        print(f"| {m} | {len(rs)} | {np.mean([r['dice'] for r in rs]):{fmt}} | {max(r['negj'] for r in rs):.4f} | "
              f"{np.median([r['seconds'] for r in rs]):.2f} | {np.median([r['cpu'] for r in rs]):.2f} | {np.median(ratios) if ratios else float('nan'):.3f} | {max(r['peak_mb'] for r in rs):.0f} |")
    if same:  # per pair, one column per method (the same registrations under each instrument)
        print('\n| pair | ' + ' | '.join(methods) + ' |'); print('|---|' + '---|' * len(methods))
        for pid in dict.fromkeys(r['pair'] for r in recs):
            row = {r['method']: r['dice'] for r in recs if r['pair'] == pid}
            print(f'| {pid} | ' + ' | '.join(f"{row[m]:.4f}" if m in row else '–' for m in methods) + ' |')
        print('| mean | ' + ' | '.join(f"{np.mean([r['dice'] for r in recs if r['method'] == m]):.4f}" for m in methods) + ' |')
    if a.json: json.dump(recs, open(a.json, 'w'), indent=1)

if __name__ == '__main__':
    main()
