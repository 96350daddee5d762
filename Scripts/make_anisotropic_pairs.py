#!/usr/bin/env python3
"""Anisotropic (clinical-like) pairs from a bench manifest's 1 mm 3-D pairs, for registration checks.

Clinical scans are 0.5-0.8 mm in-plane with 3-5 mm slices. For each chosen pair and each requested
spacing/orientation, both images (fixed and moving) are re-acquired on a new grid covering the same
field of view:
  - thick axis: the 1 mm image is first blurred along that axis by a Gaussian slice profile whose
    FWHM is the slice thickness, then sampled at the slice centres (linear);
  - thin axes: sampled linearly (0.5 mm in-plane from a 1 mm source is an up-sampling: no new detail);
  - labels and masks: nearest neighbour at the new voxel centres;
  - the moving image's slices are offset by 40 % of a slice from the fixed image's, so the two
    acquisitions do not share slice positions (as two patients' scans do not).
Deterministic (no random numbers). Writes <out>/<pair>_<tag>_{fixed,moving}_{image,labels,mask}.nii.gz
and <out>/manifest.json (same format as the input manifest, paths relative to <out>).

usage: make_anisotropic_pairs.py MANIFEST OUT --ids ID... [--spacings 0.5x0.5x5 1x1x4 1x4x1]
Spacing order is the volume's voxel axes (RAS+ in the bench sets: x left-right, y posterior-anterior,
z inferior-superior): 0.5x0.5x5 = axial slices 5 mm thick; 1x4x1 = coronal slices 4 mm thick.
"""
import argparse, json, os
import numpy as np, nibabel as nib
from scipy import ndimage


def resample(path, spacing, offset, order, profile):
    img = nib.load(path)
    data = np.asarray(img.dataobj).squeeze()
    src_sp = np.sqrt((img.affine[:3, :3] ** 2).sum(0))
    if order == 1:
        data = data.astype(np.float32)
        if profile:
            for a in range(3):
                ratio = spacing[a] / src_sp[a]
                if ratio > 1.5:  # slice profile: Gaussian with FWHM = slice thickness
                    data = ndimage.gaussian_filter1d(data, ratio / 2.3548, axis=a, mode='nearest')
    step = np.array(spacing) / src_sp                      # new voxel size in source voxels
    size = [max(1, int(np.floor(data.shape[a] / step[a]))) for a in range(3)]
    # new voxel i sits at source voxel  start + i * step  (start centres the new grid on the old FOV)
    start = [(data.shape[a] - 1 - (size[a] - 1) * step[a]) / 2 + offset[a] * step[a] for a in range(3)]
    coords = np.meshgrid(*[start[a] + np.arange(size[a]) * step[a] for a in range(3)], indexing='ij')
    out = ndimage.map_coordinates(data, coords, order=order, mode='nearest')
    aff = img.affine.copy()
    aff[:3, :3] = img.affine[:3, :3] * step[None, :]
    aff[:3, 3] = img.affine[:3, :3] @ np.array(start) + img.affine[:3, 3]
    if order == 1:
        o = nib.Nifti1Image(out.astype(np.float32), aff)
        o.set_data_dtype(np.float32)
    else:
        o = nib.Nifti1Image(out.astype(np.int16), aff)
        o.set_data_dtype(np.int16)
    o.header.set_xyzt_units('mm')
    o.set_qform(aff, 1); o.set_sform(aff, 1)
    return o


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('manifest'); ap.add_argument('out'); ap.add_argument('--ids', nargs='+', required=True)
    ap.add_argument('--spacings', nargs='+', default=['0.5x0.5x5', '1x1x4', '1x4x1'])
    a = ap.parse_args()
    man = json.load(open(a.manifest)); root = os.path.dirname(os.path.abspath(a.manifest))
    out_dir = os.path.abspath(a.out); os.makedirs(out_dir, exist_ok=True)
    pairs = []
    for p in man['pairs']:
        if p['id'] not in a.ids: continue
        for sp_text in a.spacings:
            sp = [float(x) for x in sp_text.split('x')]
            thick = int(np.argmax(sp))
            tag = 'aniso' + sp_text.replace('.', 'p')
            base = p['id'].replace('/', '_') + '_' + tag
            q = dict(id=p['id'] + '-' + tag, name=p['id'] + '-' + tag, group='aniso', kind=p.get('kind', ''),
                     dim=3, dims=3, table=f'anisotropic {sp_text} mm ({"axial" if thick == 2 else "coronal" if thick == 1 else "sagittal"} slices)',
                     voxel_mm=sp, source_pair=p['id'], source_manifest=os.path.abspath(a.manifest))
            for side in ('fixed', 'moving'):
                offset = [0.0, 0.0, 0.0]
                if side == 'moving': offset[thick] = 0.4
                for kind, order in (('image', 1), ('labels', 0), ('mask', 0)):
                    key = f'{side}_{kind}'
                    if not p.get(key): continue
                    o = resample(os.path.join(root, p[key]), sp, offset, order, profile=True)
                    name = f'{base}_{side}_{kind}.nii.gz'
                    nib.save(o, os.path.join(out_dir, name))
                    q[key] = name
                q[side] = q[f'{side}_image']
            pairs.append(q)
            print(q['id'], nib.load(os.path.join(out_dir, q['fixed_image'])).shape, flush=True)
    json.dump(dict(set='anisotropic', generator='Scripts/make_anisotropic_pairs.py',
                   description='anisotropic re-acquisitions of ' + os.path.abspath(a.manifest), pairs=pairs),
              open(os.path.join(out_dir, 'manifest.json'), 'w'), indent=1)
    print(f'wrote {len(pairs)} pairs to {out_dir}/manifest.json')


main()
