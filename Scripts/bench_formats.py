#!/usr/bin/env python3
"""Reading and gzip writing of MGZ / NRRD / MetaImage / NIfTI against the reference libraries, side by side.

    Scripts/bench_formats.py VOXTERM FILE [FILE ...] [--rounds R] [--repeats K]

For each FILE, R rounds (default 3), each timing in turn (so all see the same machine load):
  read   voxterm `bench io FILE --raw` (header, inflate: the voxels in the file's data type, as the
         peers' arrays are) and `bench io FILE` (also decoded to float32, what every voxterm command
         does next): medians of K loads, against
         nibabel (`np.asarray(nib.load(f).dataobj)`, NIfTI/MGH), SimpleITK
         (`GetArrayViewFromImage(ReadImage(f))`, NIfTI/NRRD/MetaImage) and pynrrd (`nrrd.read`, NRRD);
  write  the image as float32 in FILE's format, gzip-compressed: voxterm `bench io FILE --write`
         with the libdeflate writer (default) and the earlier zlib writer, against nibabel
         (`nib.save`, level 1 as nibabel's default) and SimpleITK (`WriteImage(useCompression=True)`),
         pynrrd (`nrrd.write`, gzip level 1 for NRRD);
then the medians over rounds of every time and of each ratio voxterm / peer (below 1: voxterm faster).
Peers read what they can: SimpleITK has no MGH reader, nibabel no NRRD/MetaImage reader.
"""
import os, statistics, subprocess, sys, tempfile, time

args = sys.argv[1:]
rounds, repeats = 3, 5
if "--rounds" in args:
    i = args.index("--rounds"); rounds = int(args[i + 1]); del args[i:i + 2]
if "--repeats" in args:
    i = args.index("--repeats"); repeats = int(args[i + 1]); del args[i:i + 2]
if len(args) < 2:
    sys.exit(__doc__)
voxterm, files = args[0], args[1:]

import numpy as np, nibabel as nib, SimpleITK as sitk
try:
    import nrrd
except ImportError:
    nrrd = None


def kind(f):
    l = f.lower()
    for ext, k in ((".nii.gz", "nii"), (".nii", "nii"), (".mgz", "mgz"), (".mgh", "mgz"), (".nrrd", "nrrd"), (".mha", "mha")):
        if l.endswith(ext):
            return k
    sys.exit(f"bench_formats: {f}: not .nii(.gz), .mgz, .nrrd or .mha")


def timed(fn, k=repeats):
    ts = []
    for _ in range(k):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def voxterm_median(cmd):
    out = subprocess.run([voxterm, "bench", "io"] + cmd + ["--repeats", str(repeats)], check=True,
                         capture_output=True, text=True).stdout
    return float(out.split("median ")[1].split(" s")[0]), out.split(" bytes")[0].split(", ")[-1] if "bytes" in out else ""


def load(f):
    return np.asarray(nib.load(f).dataobj)


tmp = tempfile.mkdtemp(prefix="bench-formats-")
print(f"nibabel {nib.__version__}, SimpleITK {sitk.Version.VersionString()}, pynrrd {getattr(nrrd, '__version__', 'absent')}, "
      f"numpy {np.__version__}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
for f in files:
    k = kind(f)
    readers = {"voxterm": None, "voxterm +float32": None}
    if k in ("nii", "mgz"):
        readers["nibabel"] = lambda: np.asarray(nib.load(f).dataobj)
    if k in ("nii", "nrrd", "mha"):
        readers["SimpleITK"] = lambda: sitk.GetArrayViewFromImage(sitk.ReadImage(f))
    if k == "nrrd" and nrrd is not None:
        readers["pynrrd"] = lambda: nrrd.read(f)
    ext = {"nii": ".nii.gz", "mgz": ".mgz", "nrrd": ".nrrd", "mha": ".mha"}[k]
    data = sitk.GetArrayFromImage(sitk.ReadImage(f)).astype(np.float32) if k != "mgz" else load(f).astype(np.float32)
    nimg = nib.MGHImage(load(f).astype(np.float32), nib.load(f).affine) if k == "mgz" else None
    simg = sitk.GetImageFromArray(data) if k != "mgz" else None
    writers = {"voxterm libdeflate": None, "voxterm zlib": None}
    out = os.path.join(tmp, "w" + ext)
    if k == "nii":
        nimg = nib.Nifti1Image(load(f).astype(np.float32), nib.load(f).affine)
        writers["nibabel"] = lambda: nib.save(nimg, out)
    if k == "mgz":
        writers["nibabel"] = lambda: nib.save(nimg, out)
    if k in ("nii", "nrrd", "mha"):
        writers["SimpleITK"] = lambda: sitk.WriteImage(simg, out, useCompression=True)
    if k == "nrrd" and nrrd is not None:
        arr = np.ascontiguousarray(data.transpose())
        writers["pynrrd"] = lambda: nrrd.write(out, arr, {"encoding": "gzip"}, compression_level=1)
    rt = {n: [] for n in readers}; wt = {n: [] for n in writers}; sizes = {}
    for r in range(rounds):
        for n, fn in readers.items():
            rt[n].append(voxterm_median([f] + ([] if "float32" in n else ["--raw"]))[0] if fn is None else timed(fn))
        for n, fn in writers.items():
            if fn is None:
                t, size = voxterm_median([f, "--write", os.path.join(tmp, "v" + ext), "--gzip-writer", n.split()[1]])
                wt[n].append(t); sizes[n] = size
            else:
                wt[n].append(timed(fn)); sizes[n] = str(os.path.getsize(out)); os.remove(out)
    print(f"\n{f} ({k}), {rounds} rounds, load average now {os.getloadavg()[0]:.2f}")
    for title, table in (("read", rt), ("write float32 gzip", wt)):
        v = table["voxterm" if title == "read" else "voxterm libdeflate"]
        for n, ts in table.items():
            line = f"  {title:18s} {n:18s} median {statistics.median(ts):.4f} s"
            if title != "read":
                line += f", {sizes[n]} bytes"
            if not n.startswith("voxterm"):
                line += f"; ratio voxterm/{n} {statistics.median([a / b for a, b in zip(v, ts)]):.2f}"
                if title == "read":
                    line += f" (with float32 {statistics.median([a / b for a, b in zip(table['voxterm +float32'], ts)]):.2f})"
            print(line)
