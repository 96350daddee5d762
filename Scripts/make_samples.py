#!/usr/bin/env python3
"""Make voxterm's bundled samples from Debian's mricron-data (BSD-3-clause, MRIcron, Chris Rorden).

Writes into Samples/ (deterministic; numpy, scipy, nibabel):
  colin27_1mm.nii.gz        ch2bet (Colin27 T1, brain-extracted), 181x217x181, 1 mm, uint8, as shipped
  colin27_1mm_aal.nii.gz    aal (AAL atlas, 116 labels), same grid, as shipped
  colin27_2mm.nii.gz        ch2bet at 2 mm: 2x2x2 block mean (zero-padded to even size), 91x109x91, float32 rounded to 0.01
  colin27_2mm_aal.nii.gz    aal at 2 mm: 2x2x2 block majority vote (ties -> smallest label), uint8
  subject01_2mm.nii.gz      a synthetic subject: colin27_2mm warped by a smooth random diffeomorphism,
                            with a multiplicative bias field and Gaussian noise (seed 1)
  subject01_2mm_aal.nii.gz  its true labels (the 2 mm AAL warped with nearest neighbour)
  aal.txt                   AAL label names (index name code), copy of aal.nii.txt
Run: python3 Scripts/make_samples.py [--templates /usr/share/mricron/templates]
"""
import argparse
import os
import shutil

import nibabel as nib
import numpy as np
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Samples")


def block_reduce(data, reducer):
    pad = [(0, s % 2) for s in data.shape]
    d = np.pad(data, pad)
    nx, ny, nz = (s // 2 for s in d.shape)
    blocks = d.reshape(nx, 2, ny, 2, nz, 2).transpose(0, 2, 4, 1, 3, 5).reshape(nx, ny, nz, 8)
    return reducer(blocks)


def majority(blocks):
    out = np.zeros(blocks.shape[:3], dtype=np.uint8)
    flat = blocks.reshape(-1, 8)
    res = np.empty(flat.shape[0], dtype=np.uint8)
    for n, row in enumerate(flat):
        vals, counts = np.unique(row, return_counts=True)
        res[n] = vals[np.argmax(counts)]  # np.unique sorts: ties go to the smallest label
    return res.reshape(out.shape)


def save(data, affine, name, dtype):
    img = nib.Nifti1Image(data.astype(dtype), affine)
    img.header.set_xyzt_units("mm", "sec")
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    nib.save(img, os.path.join(OUT, name))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--templates", default="/usr/share/mricron/templates")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    t1 = nib.load(os.path.join(a.templates, "ch2bet.nii.gz"))
    aal = nib.load(os.path.join(a.templates, "aal.nii.gz"))
    shutil.copyfile(os.path.join(a.templates, "ch2bet.nii.gz"), os.path.join(OUT, "colin27_1mm.nii.gz"))
    shutil.copyfile(os.path.join(a.templates, "aal.nii.gz"), os.path.join(OUT, "colin27_1mm_aal.nii.gz"))
    shutil.copyfile(os.path.join(a.templates, "aal.nii.txt"), os.path.join(OUT, "aal.txt"))

    # 2 mm: voxel (i, j, k) covers 1 mm voxels 2i, 2i+1, so its centre is at 1 mm index 2i + 0.5.
    aff1 = t1.affine
    aff2 = aff1.copy()
    aff2[:3, :3] = aff1[:3, :3] * 2
    aff2[:3, 3] = aff1[:3, :3] @ np.array([0.5, 0.5, 0.5]) + aff1[:3, 3]
    img2 = block_reduce(np.asarray(t1.dataobj).astype(np.float32), lambda b: b.mean(axis=-1))
    img2 = np.round(img2, 2)
    lab2 = block_reduce(np.asarray(aal.dataobj).astype(np.uint8), majority)
    save(img2, aff2, "colin27_2mm.nii.gz", np.float32)
    save(lab2, aff2, "colin27_2mm_aal.nii.gz", np.uint8)

    # Synthetic subject: stationary velocity field (smoothed white noise, sigma 10 mm), scaled so
    # the largest displacement is 6 mm, integrated by scaling and squaring (7 squarings).
    rng = np.random.default_rng(1)
    shape = img2.shape
    sigma_vox = 10.0 / 2.0
    v = np.stack([ndimage.gaussian_filter(rng.standard_normal(shape), sigma_vox) for _ in range(3)])
    grid = np.stack(np.meshgrid(*[np.arange(s, dtype=np.float64) for s in shape], indexing="ij"))

    def integrate(vel):
        u = vel / 2 ** 7
        for _ in range(7):
            u = u + np.stack([ndimage.map_coordinates(u[c], grid + u, order=1, mode="nearest") for c in range(3)])
        return u

    # Rescale the velocity once so the integrated field peaks near 3 voxels (6 mm).
    u = integrate(v * 3.0 / np.sqrt((integrate(v) ** 2).sum(0)).max())
    # Plus an affine about the grid centre: 4 degrees about a tilted axis and 4 % enlargement,
    # so that registration has a linear part to find too.
    axis = np.array([0.3, 0.2, 1.0]); axis /= np.linalg.norm(axis)
    ang = np.deg2rad(4.0)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    R = np.eye(3) + np.sin(ang) * K + (1 - np.cos(ang)) * K @ K
    A = R / 1.04  # subject voxel -> atlas voxel: the subject's head is 4 % larger
    c = (np.array(shape) - 1) / 2.0
    lin = np.einsum("ij,j...->i...", A, (grid + u) - c[:, None, None, None]) + c[:, None, None, None]
    coords = lin
    warped = ndimage.map_coordinates(img2, coords, order=1, mode="constant", cval=0.0)
    wlab = ndimage.map_coordinates(lab2, coords, order=0, mode="constant", cval=0).astype(np.uint8)
    # Smooth multiplicative bias (about +-10 %) and noise (2 % of the range).
    b = ndimage.gaussian_filter(rng.standard_normal(shape), 12)
    b = 0.10 * b / np.abs(b).max()
    noise = rng.standard_normal(shape) * 0.02 * img2.max()
    subject = np.clip(warped * (1 + b) + noise * (warped > 0), 0, None)
    save(np.round(subject, 2), aff2, "subject01_2mm.nii.gz", np.float32)
    save(wlab, aff2, "subject01_2mm_aal.nii.gz", np.uint8)
    print("max displacement (mm):", float(np.sqrt((u ** 2).sum(0)).max() * 2))


if __name__ == "__main__":
    main()
