#!/usr/bin/env python3
"""T2-like moving images from a bench manifest's T1 pairs, for multi-modal registration checks.

Each chosen pair's moving image is rescaled to [0, 1] between its 0.5th and 99.5th percentiles
(as voxterm does) and passed through a fixed, non-monotonic, piecewise-linear intensity map that
gives T2-like contrast on T1 brains: background stays dark, CSF-range intensities become the
brightest, grey matter mid, white matter dark. Labels, masks and the fixed image are the original
files; only the moving image changes. Writes <out>/<pair id>_t2like.nii.gz and <out>/manifest.json
(same format as the input manifest, absolute paths).

usage: make_multimodal_pairs.py MANIFEST OUT [--ids ID ...]
"""
import argparse, json, os
import numpy as np, nibabel as nib

# Knots in rescaled T1 units -> T2-like intensity.
KNOTS_X = [0.0, 0.05, 0.3, 0.55, 0.85, 1.0]
KNOTS_Y = [0.0, 0.05, 1.0, 0.55, 0.25, 0.2]

def t2like(img):
    lo, hi = np.percentile(img, [0.5, 99.5])
    x = np.clip((img - lo) / max(hi - lo, 1e-12), 0, 1)
    return np.interp(x, KNOTS_X, KNOTS_Y).astype(np.float32)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('manifest'); ap.add_argument('out'); ap.add_argument('--ids', nargs='*')
    a = ap.parse_args()
    man = json.load(open(a.manifest)); root = os.path.dirname(os.path.abspath(a.manifest))
    os.makedirs(a.out, exist_ok=True)
    pairs = []
    for p in man['pairs']:
        if a.ids and p['id'] not in a.ids: continue
        if not p.get('fixed_labels') or not p.get('moving_labels'): continue
        q = {k: (os.path.join(root, v) if isinstance(v, str) and k.endswith(('_image', '_labels', '_mask')) else v)
             for k, v in p.items()}
        src = nib.load(q['moving_image'])
        img = np.asarray(src.dataobj, dtype=np.float64)
        name = p['id'].replace('/', '_') + '_t2like.nii.gz'
        out = nib.Nifti1Image(t2like(img), src.affine, src.header); out.set_data_dtype(np.float32)
        nib.save(out, os.path.join(os.path.abspath(a.out), name))
        q['moving_image'] = os.path.join(os.path.abspath(a.out), name)
        q['id'] = p['id'] + '-t2like'
        pairs.append(q)
    json.dump(dict(man, pairs=pairs, description='T2-like moving images (non-monotonic map of T1) from ' + a.manifest),
              open(os.path.join(a.out, 'manifest.json'), 'w'), indent=1)
    print(f"wrote {len(pairs)} pairs to {a.out}/manifest.json")

main()
