#!/usr/bin/env python3
"""Few-shot segmentation, voxterm vs ANTs SyN + majority vote, on the same queries in one run.

For each setting-A query of a bench/fewshot protocol file (optionally only the first N), with k
supports: ANTsPy `registration(type_of_transform='SyN')` per support (ANTsPy defaults), support
labels warped with 'genericLabel', per-voxel majority vote (ties to the earliest support), and
`voxterm segment` (weighted fusion) on the same files. Wall-clock seconds around each pipeline
(ANTs: registrations + label warps + vote; voxterm: the whole command, file loading included),
Dice as bench/fewshot/score.py computes it (labels > 0 present in the truth, mean over labels).
Threads: 2 for both (ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS=2; voxterm uses both cores).

Usage: python3 Scripts/compare_fewshot_ants.py PROTOCOL.json --k 3 [--max-queries 2] [--voxterm PATH]
"""
import argparse, json, os, subprocess, sys, tempfile, time

os.environ.setdefault("ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS", "2")
os.environ.setdefault("OMP_NUM_THREADS", "2")
import numpy as np
import nibabel as nib
import ants


def dice(truth, pred):
    ds = []
    for l in np.unique(truth):
        if l <= 0:
            continue
        t, p = truth == l, pred == l
        ds.append(2 * (t & p).sum() / (t.sum() + p.sum()))
    return float(np.mean(ds))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("protocol")
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--max-queries", type=int, default=0)
    ap.add_argument("--voxterm", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "voxterm"))
    a = ap.parse_args()
    root = os.path.dirname(os.path.abspath(a.protocol))
    proto = json.load(open(a.protocol))
    queries = [q for q in proto["A"]["queries"] if q["k"] == a.k]
    if a.max_queries:
        queries = queries[: a.max_queries]
    rows = []
    for q in queries:
        P = lambda p: os.path.join(root, p)
        truth = np.asarray(nib.load(P(q["truth_labels"])).dataobj).astype(int)
        sup = q["supports"][: a.k]
        # ANTs SyN + majority vote
        t0 = time.perf_counter()
        fixed = ants.image_read(P(q["query_image"]))
        warped = []
        for s in sup:
            mov = ants.image_read(P(s["image"]))
            reg = ants.registration(fixed=fixed, moving=mov, type_of_transform="SyN")
            lab = ants.image_read(P(s["labels"]))
            w = ants.apply_transforms(fixed=fixed, moving=lab, transformlist=reg["fwdtransforms"], interpolator="genericLabel")
            warped.append(w.numpy().astype(int))
        stack = np.stack(warped)
        labels = np.unique(stack)
        counts = np.stack([(stack == l).sum(0) for l in labels])
        best = labels[np.argmax(counts, axis=0)]  # argmax takes the first maximum
        ants_s = time.perf_counter() - t0
        ants_d = dice(truth, best)
        # voxterm
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "pred.nii.gz")
            cmd = [a.voxterm, "segment", P(q["query_image"]), "--out", out, "--quiet"]
            for s in sup:
                cmd += ["--support", P(s["image"]) + ":" + P(s["labels"])]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            vox_s = time.perf_counter() - t0
            vox_d = dice(truth, np.asarray(nib.load(out).dataobj).astype(int))
        rows.append((q["id"], ants_d, ants_s, vox_d, vox_s))
        print(f"{q['id']}: ANTs SyN+MV Dice {ants_d:.3f} in {ants_s:.1f} s; voxterm Dice {vox_d:.3f} in {vox_s:.1f} s", flush=True)
    r = np.array([x[1:] for x in rows])
    print(f"\nk={a.k}, {len(rows)} queries: ANTs SyN + majority vote Dice {r[:,0].mean():.3f}, {np.median(r[:,1]):.1f} s median; "
          f"voxterm weighted Dice {r[:,2].mean():.3f}, {np.median(r[:,3]):.1f} s median; time ratio voxterm/ANTs {np.median(r[:,3] / r[:,1]):.2f}")


if __name__ == "__main__":
    main()
