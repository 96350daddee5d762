#!/usr/bin/env python3
"""T2-like moving images from a bench manifest's T1 pairs, for multi-modal registration checks.

Each chosen pair's moving image is rescaled to [0, 1] between its 0.5th and 99.5th percentiles
(as voxterm does) and passed through a fixed, non-monotonic, piecewise-linear intensity map that
gives T2-like contrast on T1 brains: background stays dark, CSF-range intensities become the
brightest, grey matter mid, white matter dark. Labels, masks and the fixed image are the original
files; only the moving image changes. Writes <out>/<pair id>_t2like.nii.gz and <out>/manifest.json
(same format as the input manifest, absolute paths).

--contrast ct gives a CT-like map instead (air dark, CSF-range low, grey matter above white
matter as in CT of the brain, the brightest T1 range (fat) below white matter: rises, then falls), written as
<pair id>_ctlike.nii.gz with ids <pair>-ctlike.

usage: make_multimodal_pairs.py MANIFEST OUT [--ids ID ...] [--contrast t2|ct]
"""
import argparse, json, os
import numpy as np, nibabel as nib

# Knots in rescaled T1 units -> T2-like intensity.
KNOTS_X = [0.0, 0.05, 0.3, 0.55, 0.85, 1.0]
KNOTS_Y = [0.0, 0.05, 1.0, 0.55, 0.25, 0.2]

# CT-like (brain CT: CSF < white matter < grey matter; fat, the brightest T1, below white matter):
# air 0, CSF range (T1 ~0.33) 0.4, grey matter (~0.7) 0.7, white matter (~0.9) 0.55, brightest 0.45.
CT_KNOTS_X = [0.0, 0.05, 0.33, 0.7, 0.9, 1.0]
CT_KNOTS_Y = [0.0, 0.05, 0.4, 0.7, 0.55, 0.45]

def t2like(img, xs=KNOTS_X, ys=KNOTS_Y):
    lo, hi = np.percentile(img, [0.5, 99.5])
    x = np.clip((img - lo) / max(hi - lo, 1e-12), 0, 1)
    return np.interp(x, xs, ys).astype(np.float32)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('manifest'); ap.add_argument('out'); ap.add_argument('--ids', nargs='*')
    ap.add_argument('--contrast', choices=['t2', 'ct'], default='t2')
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
        tag = a.contrast + 'like'
        name = p['id'].replace('/', '_') + '_' + tag + '.nii.gz'
        mapped = t2like(img) if a.contrast == 't2' else t2like(img, CT_KNOTS_X, CT_KNOTS_Y)
        out = nib.Nifti1Image(mapped, src.affine, src.header); out.set_data_dtype(np.float32)
        nib.save(out, os.path.join(os.path.abspath(a.out), name))
        q['moving_image'] = os.path.join(os.path.abspath(a.out), name)
        q['id'] = p['id'] + '-' + tag
        pairs.append(q)
    json.dump(dict(man, pairs=pairs, description=a.contrast.upper() + '-like moving images (non-monotonic map of T1) from ' + a.manifest),
              open(os.path.join(a.out, 'manifest.json'), 'w'), indent=1)
    print(f"wrote {len(pairs)} pairs to {a.out}/manifest.json")

main()
