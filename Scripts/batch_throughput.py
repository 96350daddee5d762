#!/usr/bin/env python3
"""Cohort throughput, in one run: subjects per hour for 2 mm registration (default preset) with
`voxterm batch register` at several --jobs/--threads splits, a shell loop over `voxterm register`,
and ANTs SyN (ANTsPy defaults, 2 ITK threads) as a loop of one process per subject.

    python3 Scripts/batch_throughput.py --voxterm .build/release/voxterm --subjects 4 --out /tmp/tp

Subjects: Samples/colin27_2mm moved by a different small affine each (scipy), registered to
Samples/subject01_2mm (the synthetic deformed subject), moving labels carried along. Each method
is timed around the whole cohort (process start-up included, as a user's loop would pay it), with
the 1-minute load average (`uptime`) before each; the machine is shared, so read the ratios with
the load. Prints a table and writes DIR/throughput.json.
"""
import argparse, json, math, os, subprocess, sys, time

import nibabel as nib
import numpy as np
from scipy import ndimage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "Samples")

ANTS_ONE = r"""
import os, sys, time
import ants
fixed = ants.image_read(sys.argv[1]); moving = ants.image_read(sys.argv[2])
reg = ants.registration(fixed=fixed, moving=moving, type_of_transform="SyN")
ml = ants.image_read(sys.argv[3])
w = ants.apply_transforms(fixed=fixed, moving=ml, transformlist=reg["fwdtransforms"], interpolator="nearestNeighbor")
ants.image_write(reg["warpedmovout"], os.path.join(sys.argv[4], "warped.nii.gz"))
ants.image_write(w, os.path.join(sys.argv[4], "warped_labels.nii.gz"))
"""


def load1():
    return os.getloadavg()[0]


def make_subjects(out, n):
    img = nib.load(os.path.join(SAMPLES, "colin27_2mm.nii.gz"))
    lab = nib.load(os.path.join(SAMPLES, "colin27_2mm_aal.nii.gz"))
    data = np.asarray(img.dataobj, dtype=np.float32)
    labels = np.asarray(lab.dataobj)
    centre = (np.array(data.shape) - 1) / 2
    rows = ["subject,image,labels"]
    for i in range(n):
        a = math.radians((i % 5 - 2) * 3)
        s = 1 + (i % 3 - 1) * 0.03
        m = np.array([[s * math.cos(a), -s * math.sin(a), 0], [s * math.sin(a), s * math.cos(a), 0], [0, 0, s]])
        shift = np.array([(i % 3 - 1) * 1.5, (i % 4) * 0.75 - 1.1, (i % 2) - 0.5])
        off = centre - m @ centre + shift
        d = ndimage.affine_transform(data, m, offset=off, order=1)
        l = ndimage.affine_transform(labels, m, offset=off, order=0)
        name = "s%02d" % (i + 1)
        nib.save(nib.Nifti1Image(d.astype(np.float32), img.affine), os.path.join(out, name + ".nii.gz"))
        nib.save(nib.Nifti1Image(l.astype(np.uint8), lab.affine), os.path.join(out, name + "_aal.nii.gz"))
        rows.append("%s,%s.nii.gz,%s_aal.nii.gz" % (name, name, name))
    with open(os.path.join(out, "cohort.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    return [r.split(",")[0] for r in rows[1:]]


def timed(cmd_list, env=None):
    load = load1()
    t0 = time.monotonic()
    for cmd in cmd_list:
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        if r.returncode != 0:
            sys.exit("failed: %s\n%s" % (" ".join(cmd), r.stderr.decode()[-2000:]))
    return time.monotonic() - t0, load


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--voxterm", default=os.path.join(ROOT, ".build/release/voxterm"))
    ap.add_argument("--subjects", type=int, default=4)
    ap.add_argument("--out", required=True)
    ap.add_argument("--preset", default="default")
    ap.add_argument("--no-ants", action="store_true")
    ap.add_argument("--reverse", action="store_true", help="run the methods in reverse order (a second pass evens out load drift)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    data = os.path.join(args.out, "data")
    os.makedirs(data, exist_ok=True)
    subjects = make_subjects(data, args.subjects)
    fixed = os.path.join(SAMPLES, "subject01_2mm.nii.gz")
    cohort = os.path.join(data, "cohort.csv")
    n = len(subjects)
    results = []

    def record(name, seconds, load):
        results.append({"method": name, "seconds": seconds, "subjects": n, "subjects_per_hour": n / seconds * 3600,
                        "load_before": load})
        print("%-44s %7.1f s  %6.1f subjects/h  (load %.1f)" % (name, seconds, n / seconds * 3600, load), flush=True)

    methods = []
    for jobs, threads in [(2, 1), (1, 2)]:
        out = os.path.join(args.out, "batch-j%d-t%d" % (jobs, threads))
        methods.append(("voxterm batch --jobs %d --threads %d" % (jobs, threads), None,
                        [[args.voxterm, "batch", "register", cohort, "--out", out, "--fixed", fixed, "--preset", args.preset,
                          "--jobs", str(jobs), "--threads", str(threads), "--quiet"]]))
    loop = [[args.voxterm, "register", fixed, os.path.join(data, sub + ".nii.gz"), "--out", os.path.join(args.out, "loop", sub),
             "--moving-labels", os.path.join(data, sub + "_aal.nii.gz"), "--preset", args.preset, "--quiet"] for sub in subjects]
    methods.append(("shell loop: voxterm register (2 threads)", None, loop))
    if not args.no_ants:
        env = dict(os.environ, ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS="2")
        cmds = []
        for sub in subjects:
            o = os.path.join(args.out, "ants", sub)
            os.makedirs(o, exist_ok=True)
            cmds.append([sys.executable, "-c", ANTS_ONE, fixed, os.path.join(data, sub + ".nii.gz"),
                         os.path.join(data, sub + "_aal.nii.gz"), o])
        methods.append(("loop: ANTs SyN (ANTsPy, 2 ITK threads)", env, cmds))
    for name, env, cmds in (reversed(methods) if args.reverse else methods):
        s, l = timed(cmds, env)
        record(name, s, l)
    with open(os.path.join(args.out, "throughput.json"), "w") as f:
        json.dump({"results": results, "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
                   "cores": os.cpu_count()}, f, indent=2)


if __name__ == "__main__":
    main()
