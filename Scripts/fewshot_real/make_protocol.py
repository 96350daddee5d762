#!/usr/bin/env python3
"""Setting B of bench/fewshot on real labelled volumes that are not Colin27 (issue 16).

Writes, under OUT (default /tmp/fewshot_real):
  data/<volume>_{image,labels}.nii.gz         the volumes (2 mm, 91 x 109 x 91)
  inputs/B__real__<volume>__N<N>_sparse_labels.nii.gz
  protocol-real.json                          bench/fewshot format, setting B only (paths relative to OUT)
  pred/nearest_copy/, pred/sdt_interp/        the bench's two fast baselines (same rules as run_fewshot.py)

Volumes (every file comes from a package archive; nothing is downloaded at run time unless --fetch):
  mni152-oasis  image: ANTsPy's data/mni.nii.gz (MNI152 nonlinear 6th generation T1, 1 mm, brain-extracted),
                triangle-filtered and sampled at the 2 mm grid of the labels (same voxel centres);
                labels: ANTsPy's data/oasis_mni.nii.gz (2 mm, 136 labels in the Neuromorphometrics /
                MICCAI 2012 numbering: cortical parcels, subcortical nuclei, white matter, ventricles).
  mni152-aal    same image; labels: ANTsPy's data/mnia.nii.gz (1 mm, 116 labels numbered as AAL), taken at
                the 2 mm voxel centres (nearest: 1 mm voxel 2i).
  icbm2009a     bench/out/real/brain3d/icbm2009a_2mm_{image,labels} (nilearn's ICBM152 2009a average T1, GM/WM
                = argmax of its shipped probability maps; made by bench/real/prepare.py --derived-labels).
Usage:
  python3 make_protocol.py [--antspyx-sdist PATH] [--icbm-dir DIR] [--out OUT]
  cd OUT && voxterm bench segment protocol-real.json --out vox --settings B --whole-process
  python3 bench/fewshot/score.py OUT/protocol-real.json OUT/vox/voxterm_cli_slices
  python3 bench/fewshot/score.py OUT/protocol-real.json OUT/pred/sdt_interp   (and nearest_copy)
"""
import argparse, gzip, hashlib, json, os, tarfile, time
import numpy as np, nibabel as nib
from scipy import ndimage

BENCH = os.environ.get("BENCH_DIR", "/work/shared/bench")
ap = argparse.ArgumentParser()
ap.add_argument("--antspyx-sdist", default=os.path.join(BENCH, ".cache/real/pypi/antspyx-0.6.3.tar.gz"),
                help="antspyx 0.6.3 source archive (pip download --no-deps --no-binary antspyx antspyx==0.6.3)")
ap.add_argument("--icbm-dir", default=os.path.join(BENCH, "out/real/brain3d"))
ap.add_argument("--out", default="/tmp/fewshot_real")
args = ap.parse_args()
OUT = os.path.abspath(args.out)
for d in ("data", "inputs", "pred/nearest_copy", "pred/sdt_interp"):
    os.makedirs(os.path.join(OUT, d), exist_ok=True)

def member(tar, name):
    with tarfile.open(tar) as t:
        raw = t.extractfile(f"antspyx-0.6.3/data/{name}").read()
    return nib.Nifti1Image.from_bytes(gzip.decompress(raw)), hashlib.sha256(raw).hexdigest()[:16]

def sha16(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()[:16]

def save(arr, affine, path, labels):
    im = nib.Nifti1Image(arr.astype(np.uint8 if labels else np.float32), affine)
    im.set_qform(affine, code=1); im.set_sform(affine, code=1)
    nib.save(im, path)

sources = {}
mni, sources["antspyx data/mni.nii.gz"] = member(args.antspyx_sdist, "mni.nii.gz")
oas, sources["antspyx data/oasis_mni.nii.gz"] = member(args.antspyx_sdist, "oasis_mni.nii.gz")
mnia, sources["antspyx data/mnia.nii.gz"] = member(args.antspyx_sdist, "mnia.nii.gz")
A1, A2 = mni.affine, oas.affine
# the 2 mm voxel i has the centre of the 1 mm voxel 2i (checked, not assumed)
assert np.allclose(A2[:3, :3], 2 * A1[:3, :3]) and np.allclose(A2[:3, 3], A1[:3, 3]), (A1, A2)
img1 = np.asarray(mni.dataobj, dtype=np.float32)
tri = np.array([0.25, 0.5, 0.25], np.float32)
sm = img1
for ax in range(3):
    sm = ndimage.convolve1d(sm, tri, axis=ax, mode="constant")
img2 = sm[::2, ::2, ::2]
assert img2.shape == oas.shape, (img2.shape, oas.shape)
vols = {
    "mni152-oasis": (img2, np.rint(np.asarray(oas.dataobj)).astype(np.int64), A2),
    "mni152-aal": (img2, np.rint(np.asarray(mnia.dataobj))[::2, ::2, ::2].astype(np.int64), A2),
}
ic_img = nib.load(os.path.join(args.icbm_dir, "icbm2009a_2mm_image.nii.gz"))
ic_lab = nib.load(os.path.join(args.icbm_dir, "icbm2009a_2mm_labels.nii.gz"))
vols["icbm2009a"] = (np.asarray(ic_img.dataobj, dtype=np.float32), np.rint(np.asarray(ic_lab.dataobj)).astype(np.int64), ic_img.affine)

def b_nearest(lab, S, T):  # bench/fewshot run_fewshot.py nearest_copy
    pred = np.zeros_like(lab); pred[:, :, S] = lab[:, :, S]
    for t in T:
        pred[:, :, t] = lab[:, :, min(S, key=lambda z: (abs(z - t), z))]
    return pred

def _sdt(m, sp):
    if not m.any(): return None
    if m.all(): return np.full(m.shape, -1e3)
    return ndimage.distance_transform_edt(~m, sampling=sp) - ndimage.distance_transform_edt(m, sampling=sp)

def b_sdt(lab, S, T, sp):  # bench/fewshot run_fewshot.py sdt_interp (signed distance, linear in z, argmin)
    pred = np.zeros_like(lab); pred[:, :, S] = lab[:, :, S]
    for a, b in zip(S, S[1:]):
        if b - a < 2: continue
        la, lb = lab[:, :, a], lab[:, :, b]
        labels = np.union1d(np.unique(la), np.unique(lb)); Da, Db = [], []
        for L in labels:
            da, db = _sdt(la == L, sp), _sdt(lb == L, sp)
            if da is None: da = db + (-db.min()) + sp
            if db is None: db = da + (-da.min()) + sp
            Da.append(da); Db.append(db)
        Da, Db = np.stack(Da), np.stack(Db)
        for t in range(a + 1, b):
            wa = (b - t) / (b - a); pred[:, :, t] = labels[(wa * Da + (1 - wa) * Db).argmin(0)]
    return pred

proto = {"set": "real", "generated_by": "voxterm Scripts/fewshot_real/make_protocol.py",
         "paths": "relative to the folder of this protocol file", "sources": sources,
         "B": {"description": "as bench/fewshot protocol-dev.json setting B", "N_values": [5, 10], "axis": 2, "queries": []}}
secs = {"nearest_copy": {}, "sdt_interp": {}}
for name, (img, lab, aff) in vols.items():
    ip, lp = f"data/{name}_image.nii.gz", f"data/{name}_labels.nii.gz"
    save(img, aff, os.path.join(OUT, ip), False); save(lab, aff, os.path.join(OUT, lp), True)
    zs = np.where((lab > 0).any(axis=(0, 1)))[0]; zlo, zhi = int(zs.min()), int(zs.max())
    sp = float(abs(nib.load(os.path.join(OUT, lp)).header.get_zooms()[0]))
    inside = float(((lab > 0) & (img > 0)).sum() / max((lab > 0).sum(), 1))
    print(f"{name}: {len(np.unique(lab)) - 1} labels, {int((lab > 0).sum())} labelled voxels "
          f"({inside:.3f} of them on image > 0), z {zlo}..{zhi}")
    for N in (5, 10):
        S = sorted(set(range(zlo, zhi + 1, N)) | {zhi}); T = [z for z in range(zlo, zhi + 1) if z not in S]
        qid = f"B/real/{name}/N{N}"; f = qid.replace("/", "__") + ".nii.gz"
        sparse = np.zeros_like(lab); sparse[:, :, S] = lab[:, :, S]
        spp = f"inputs/{qid.replace('/', '__')}_sparse_labels.nii.gz"
        save(sparse, aff, os.path.join(OUT, spp), True)
        proto["B"]["queries"].append({"id": qid, "file": f, "setting": "B", "group": "real", "volume": name, "N": N,
            "axis": 2, "image": ip, "truth_labels": lp, "image_sha256_16": sha16(os.path.join(OUT, ip)),
            "truth_labels_sha256_16": sha16(os.path.join(OUT, lp)), "sparse_labels": spp,
            "z_range": [zlo, zhi], "labelled_slices": S, "target_slices": T})
        for m, fn in (("nearest_copy", lambda: b_nearest(sparse, S, T)), ("sdt_interp", lambda: b_sdt(sparse, S, T, sp))):
            t0 = time.perf_counter(); pred = fn(); secs[m][qid] = time.perf_counter() - t0
            save(pred, aff, os.path.join(OUT, "pred", m, f), True)
for m, s in secs.items():
    json.dump(s, open(os.path.join(OUT, "pred", m, "seconds.json"), "w"), indent=1)
json.dump(proto, open(os.path.join(OUT, "protocol-real.json"), "w"), indent=1)
print("wrote", os.path.join(OUT, "protocol-real.json"))
