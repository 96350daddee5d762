#!/usr/bin/env python3
"""Apply voxterm's registration outputs with ANTsPy and compare with voxterm's own warped image.

usage: ants_apply.py FIXED MOVING OUTDIR [--labels MOVING_LABELS]

OUTDIR is a `voxterm register` output folder (field.nii.gz, affine_itk.tfm, warped.nii.gz).
ANTs maps fixed points through the transform list in reverse order of application to images:
transformlist=[field.nii.gz, affine_itk.tfm] sends a fixed point x to A(x + u(x)), voxterm's map.
Prints one JSON line: the Pearson correlation between ANTs' and voxterm's warped images inside
the fixed image's foreground (fixed > 5 % of its 99th percentile), and the mean absolute
difference there relative to the moving image's range. Writes OUTDIR/ants_warped.nii.gz.
With --labels, also warps MOVING_LABELS with ANTs' GenericLabel and NearestNeighbor interpolators
and reports the fraction of fixed voxels where each agrees with voxterm's warped_labels.nii.gz
("labels_generic_agreement", "labels_nearest_agreement") and the number of voxels that differ.
Exit status 0 on success; an ImportError (antspyx missing) is an error, never a skip.
"""
import json
import os
import sys

import ants  # pip package antspyx
import numpy as np


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    fixed_path, moving_path, out_dir = argv[1], argv[2], argv[3]
    fixed = ants.image_read(fixed_path)
    moving = ants.image_read(moving_path)
    transforms = [os.path.join(out_dir, "field.nii.gz"), os.path.join(out_dir, "affine_itk.tfm")]
    warped = ants.apply_transforms(fixed=fixed, moving=moving, transformlist=transforms, interpolator="linear")
    ants.image_write(warped, os.path.join(out_dir, "ants_warped.nii.gz"))
    ours = ants.image_read(os.path.join(out_dir, "warped.nii.gz")).numpy()
    theirs = warped.numpy()
    f = fixed.numpy()
    mask = f > 0.05 * np.percentile(f[f > 0], 99) if np.any(f > 0) else np.ones_like(f, bool)
    a, b = ours[mask].astype(float), theirs[mask].astype(float)
    corr = float(np.corrcoef(a, b)[0, 1])
    m = moving.numpy()
    rng = float(m.max() - m.min()) or 1.0
    result = {"correlation": corr, "mean_abs_diff_rel": float(np.mean(np.abs(a - b)) / rng), "voxels": int(mask.sum())}
    if "--labels" in argv:
        labels = ants.image_read(argv[argv.index("--labels") + 1])
        ours_l = np.rint(ants.image_read(os.path.join(out_dir, "warped_labels.nii.gz")).numpy()).astype(np.int64)
        for name, interp in (("generic", "genericLabel"), ("nearest", "nearestNeighbor")):
            theirs_l = np.rint(ants.apply_transforms(fixed=fixed, moving=labels, transformlist=transforms,
                                                     interpolator=interp).numpy()).astype(np.int64)
            result[f"labels_{name}_agreement"] = float(np.mean(theirs_l == ours_l))
            result[f"labels_{name}_differ"] = int(np.sum(theirs_l != ours_l))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
