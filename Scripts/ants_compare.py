#!/usr/bin/env python3
"""Side-by-side: voxterm vs ANTs SyN (ANTsPy defaults) on the pairs of a bench manifest, in one run.

usage: ants_compare.py MANIFEST [--voxterm PATH] [--tables "3D 2 mm" ...] [--max-pairs N]
                       [--presets fast default accurate] [--threads 2] [--json OUT.json]

MANIFEST is `out/<set>/manifest.json` from ../shared/bench/make_pairs.py. voxterm runs through
`voxterm bench register` and ANTs SyN interleaved pair by pair (so machine load weighs on both
alike); every ANTs SyN registration runs in its own subprocess with 2 ITK threads, timed around `ants.registration` alone. Both are scored the same
way: mean Dice over the labels present in the fixed label map (nearest-neighbour label warping),
%negJ = percentage of fixed-mask voxels with det(Jacobian of the total map) <= 0, EPE = mean
|u_est - u_true| in the fixed mask (atlas-to-subject pairs, RAS mm). Needs antspyx, nibabel, numpy.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def score(fixed_labels, warped_labels):
    import numpy as np
    dice = []
    for lab in np.unique(fixed_labels):
        if lab == 0:
            continue
        a, b = fixed_labels == lab, warped_labels == lab
        dice.append(2.0 * np.logical_and(a, b).sum() / (a.sum() + b.sum()))
    return float(np.mean(dice)), float(np.median(dice))


def worker(pair_json):
    """Run ANTs SyN on one pair; print one JSON line."""
    import ants
    import nibabel as nib
    import numpy as np
    pair = json.loads(pair_json)
    root = pair["root"]
    p = lambda k: os.path.join(root, pair[k])
    two_d = pair.get("dim") == 2
    read = lambda k: ants.slice_image(ants.image_read(p(k)), axis=2, idx=0) if two_d else ants.image_read(p(k))
    fixed, moving = read("fixed_image"), read("moving_image")
    t0 = time.perf_counter()
    reg = ants.registration(fixed=fixed, moving=moving, type_of_transform="SyN")
    secs = time.perf_counter() - t0
    ml = read("moving_labels")
    warped = ants.apply_transforms(fixed=fixed, moving=ml, transformlist=reg["fwdtransforms"],
                                   interpolator="nearestNeighbor").numpy()
    fl = nib.load(p("fixed_labels")).get_fdata()
    warped = warped.reshape(fl.shape)
    mean_dice, median_dice = score(fl, np.rint(warped))
    mask = nib.load(p("fixed_mask")).get_fdata() > 0 if pair.get("fixed_mask") else np.ones(fl.shape, bool)
    with tempfile.TemporaryDirectory() as tmp:
        comp = ants.apply_transforms(fixed=fixed, moving=moving, transformlist=reg["fwdtransforms"],
                                     compose=os.path.join(tmp, "comp"))
        raw = nib.load(comp).get_fdata()
        ncomp = raw.shape[-1]
        field = np.zeros(fl.shape + (3,))
        field[..., :ncomp] = raw.reshape(fl.shape + (ncomp,))
    field[..., 0] *= -1  # LPS -> RAS
    field[..., 1] *= -1
    aff = nib.load(p("fixed_image")).affine
    sp = np.sqrt((aff[:3, :3] ** 2).sum(0))
    axes = [a for a in range(3) if fl.shape[a] > 1]
    J = np.zeros(fl.shape + (3, 3))
    lin = aff[:3, :3] / sp  # voxel-axis directions in world
    for c in range(3):
        for a in axes:
            d = np.gradient(field[..., c], sp[a], axis=a)
            for r in range(3):
                J[..., c, r] += d * lin[r, a]  # d u_c / d world_r (axes orthogonal)
    J += np.eye(3)
    det = np.linalg.det(J)
    negj = 100.0 * float((det[mask] <= 0).mean())
    epe = None
    if pair.get("true_displacement"):
        true = nib.load(p("true_displacement")).get_fdata().reshape(fl.shape + (3,))
        epe = float(np.linalg.norm(field - true, axis=-1)[mask].mean())
    print(json.dumps({"id": pair["id"], "table": pair["table"], "dice": mean_dice, "median_label_dice": median_dice,
                      "negj_percent": negj, "epe_mm": epe, "seconds": secs,
                      "peak_mb": peak_mb()}))


def peak_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def summarise(name, recs):
    import numpy as np
    d = np.array([r["dice"] for r in recs])
    epes = [r["epe_mm"] for r in recs if r.get("epe_mm") is not None]
    return (f"| {name} | {len(recs)} | {d.mean():.3f} ± {d.std(ddof=1) if len(d) > 1 else 0:.3f} | "
            f"{np.mean([r['median_label_dice'] for r in recs]):.3f} | {np.mean([r['negj_percent'] for r in recs]):.4f} | "
            f"{(np.mean(epes) if epes else float('nan')):.2f} | {np.median([r['seconds'] for r in recs]):.2f} | "
            f"{max(r['peak_mb'] or 0 for r in recs):.0f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("--voxterm", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "voxterm"))
    ap.add_argument("--tables", nargs="*", default=["3D 2 mm", "2D (2 mm slices)"])
    ap.add_argument("--max-pairs", type=int, default=None)
    ap.add_argument("--presets", nargs="*", default=["default"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker)
        return 0
    root = os.path.dirname(os.path.abspath(args.manifest))
    pairs = json.load(open(args.manifest))["pairs"]
    chosen, count = [], {}
    for p in pairs:
        if p["table"] not in args.tables:
            continue
        if args.max_pairs is not None and count.get(p["table"], 0) >= args.max_pairs:
            continue
        count[p["table"]] = count.get(p["table"], 0) + 1
        chosen.append(p)

    # Interleaved pair by pair (voxterm presets, then ANTs SyN on the same pair), so that the load
    # of a shared machine weighs on both alike; each registration is timed around the call alone.
    vox = {preset: [] for preset in args.presets}
    ants_recs = []
    env = dict(os.environ, ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    with tempfile.TemporaryDirectory() as tmp:
        for p in chosen:
            sub = os.path.join(tmp, "manifest.json")
            with open(sub, "w") as f:
                json.dump({"pairs": [dict(p, **{k: os.path.join(root, p[k]) for k in p
                                               if k.endswith(("_image", "_labels", "_mask", "_displacement")) and p[k]})]}, f)
            for preset in args.presets:
                out = os.path.join(tmp, f"voxterm-{preset}.json")
                cmd = [args.voxterm, "bench", "register", sub, "--preset", preset, "--threads", str(args.threads), "--json", out]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                rec = json.load(open(out))[0]
                vox[preset].append(rec)
                print(f"voxterm {preset} {rec['id']}: Dice {rec['dice']:.3f} {rec['seconds']:.2f} s", file=sys.stderr)
            r = subprocess.run([sys.executable, __file__, args.manifest, "--worker", json.dumps(dict(p, root=root))],
                               env=env, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"ANTs failed on {p['id']}: {r.stderr[-500:]}", file=sys.stderr)
                continue
            rec = json.loads(r.stdout.strip().splitlines()[-1])
            ants_recs.append(rec)
            print(f"ANTs SyN {rec['id']}: Dice {rec['dice']:.3f} {rec['seconds']:.2f} s", file=sys.stderr)

    print("| method | n | Dice | median-label Dice | %negJ | EPE mm | s (median) | peak MB |")
    print("|---|---|---|---|---|---|---|---|")
    import numpy as np
    for table in args.tables:
        a = [r for r in ants_recs if r["table"] == table]
        if not any(r["table"] == table for recs in vox.values() for r in recs):
            continue
        print(f"| **{table}** | | | | | | | |")
        if a:
            print(summarise("ANTs SyN (ANTsPy defaults)", a))
        ids = {r["id"]: r for r in a}
        for preset, recs in vox.items():
            v = [r for r in recs if r["table"] == table]
            print(summarise(f"voxterm {preset}", [dict(r, epe_mm=r.get("epe_mm")) for r in v]))
            ratios = [r["seconds"] / ids[r["id"]]["seconds"] for r in v if r["id"] in ids and ids[r["id"]]["seconds"] > 0]
            if ratios:
                print(f"| time voxterm {preset} / ANTs SyN (median of per-pair ratios) | {len(ratios)} | | | | | {np.median(ratios):.3f} | |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"voxterm": vox, "ants_syn": ants_recs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
