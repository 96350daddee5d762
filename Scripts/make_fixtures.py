#!/usr/bin/env python3
"""Writes the NIfTI fixtures of Tests/NIfTITests/Fixtures and their expected.json.

The fixtures are tiny images written by nibabel (plus a few bytes patched by hand where
nibabel refuses to write a legal-but-odd header, e.g. scl_slope 0). expected.json records
what nibabel reads back from each committed file: header fields, img.affine, aff2axcodes,
get_fdata() statistics and a few probe voxels. voxterm's tests compare against it.

Deterministic: fixed random seed, gzip members written with mtime 0 and no file name, so
running the script twice gives byte-identical files.

    pip install nibabel numpy
    python3 Scripts/make_fixtures.py            # writes Tests/NIfTITests/Fixtures/
    python3 Scripts/make_fixtures.py --check    # regenerates in a temp dir and compares
"""
import gzip
import io
import json
import math
import os
import shutil
import struct
import sys
import tempfile

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "NIfTITests", "Fixtures")

SHAPE3 = (5, 4, 3)


# ---------------------------------------------------------------- affines

def ras_affine(zooms=(2.0, 2.5, 3.0), origin=(-4.0, -3.75, -3.0)):
    a = np.diag(list(zooms) + [1.0])
    a[:3, 3] = origin
    return a


def las_affine():
    a = ras_affine()
    a[0, 0] = -a[0, 0]
    a[0, 3] = 4.0
    return a


def lpi_affine():
    return np.array([[-1.5, 0, 0, 3.0], [0, -1.5, 0, 2.25], [0, 0, -2.0, 2.0], [0, 0, 0, 1]])


def rotation(axis, degrees):
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    if axis == 0:
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == 1:
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def oblique_affine():
    r = rotation(2, 25) @ rotation(0, -12) @ rotation(1, 7)
    a = np.eye(4)
    a[:3, :3] = r @ np.diag([1.2, 0.9, 2.4])
    a[:3, 3] = [-10.5, 22.25, 7.0]
    return a


def oblique_las_affine():
    """Oblique with a reflection (negative determinant): qfac -1 in the qform."""
    a = oblique_affine()
    a[:3, 0] = -a[:3, 0]
    return a


# ---------------------------------------------------------------- data

RNG = np.random.default_rng(20261124)


def ramp(shape, dtype):
    """Values spanning the type's range (extremes included) plus a ramp, deterministic."""
    dt = np.dtype(dtype)
    n = int(np.prod(shape))
    if dt.kind in "iu":
        info = np.iinfo(dt)
        vals = np.linspace(float(info.min), float(info.max), n)
        arr = np.array([int(v) for v in vals], dtype=object)
        arr[0] = info.min
        arr[-1] = info.max
        arr[1] = 0
        arr[2] = 1
        arr = np.array([int(min(max(v, info.min), info.max)) for v in arr], dtype=dt)
    else:
        arr = (RNG.standard_normal(n) * 1000).astype(dt)
        arr[0] = np.finfo(np.float32).max if dt == np.float64 else -1e30
        arr[1] = 0
        arr[2] = 1e-30
    return arr.reshape(shape, order="F")


def smooth(shape, dtype, scale=100.0):
    idx = np.indices(shape, dtype=np.float64)
    v = sum((k + 1) * idx[k] for k in range(len(shape))) * scale / 7.0 - scale / 3.0
    return v.astype(dtype)


# ---------------------------------------------------------------- writing helpers

def gzip_bytes(raw):
    """One gzip member, deterministic (mtime 0, no name)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(raw)
    return buf.getvalue()


def save_nii(img, path):
    """Saves a single-file image; .gz is compressed deterministically."""
    if path.endswith(".gz"):
        tmp = path[:-7] + ".tmp-uncompressed.nii"
        nib.save(img, tmp)
        with open(tmp, "rb") as f:
            raw = f.read()
        os.remove(tmp)
        with open(path, "wb") as f:
            f.write(gzip_bytes(raw))
    else:
        nib.save(img, path)


def save_pair(img, hdr_path):
    """Saves a .hdr/.img pair (gzipped pair when hdr_path ends in .hdr.gz)."""
    gz = hdr_path.endswith(".gz")
    plain = hdr_path[:-3] if gz else hdr_path
    assert not os.path.exists(plain)
    nib.save(img, plain)
    if gz:
        for p in (plain, plain[:-4] + ".img"):
            with open(p, "rb") as f:
                raw = f.read()
            os.remove(p)
            with open(p + ".gz", "wb") as f:
                f.write(gzip_bytes(raw))


def patch(path, offset, fmt, *values):
    """Overwrites header bytes of an uncompressed file (fmt in the header's byte order)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(struct.pack(fmt, *values))


def make_image(data, affine, *, version=1, endian="<", qform=1, sform=1, intent=None, pair=False,
               dtype=None):
    if version == 1:
        hdr = (nib.nifti1.Nifti1PairHeader if pair else nib.Nifti1Header)(endianness=endian)
        klass = nib.Nifti1Pair if pair else nib.Nifti1Image
    else:
        hdr = (nib.nifti2.Nifti2PairHeader if pair else nib.Nifti2Header)(endianness=endian)
        klass = nib.Nifti2Pair if pair else nib.Nifti2Image
    hdr.set_data_dtype(dtype or data.dtype)
    img = klass(data, affine, header=hdr)
    img.set_sform(affine if sform else None, code=sform)
    img.set_qform(affine if qform else None, code=qform)
    if intent is not None:
        img.header.set_intent(intent)
    img.header["xyzt_units"] = 2 | 8
    img.header.set_slope_inter(1.0, 0.0)
    return img


# ---------------------------------------------------------------- fixtures

DATATYPES = ["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]


def build(out):
    made = []  # (file name, notes)

    def note(name, what):
        made.append((name, what))

    # Every datatype, both byte orders, RAS with sform and qform.
    for dt in DATATYPES:
        for endian, tag in (("<", "le"), (">", "be")):
            name = f"dt_{dt}_{tag}.nii"
            save_nii(make_image(ramp(SHAPE3, dt), ras_affine(), endian=endian), os.path.join(out, name))
            note(name, f"{dt}, {'little' if tag == 'le' else 'big'}-endian, values spanning the type's range")

    # 2-D to 5-D.
    save_nii(make_image(smooth((6, 5), np.int16), ras_affine((0.5, 0.75, 1.0))), os.path.join(out, "dim2_int16.nii"))
    note("dim2_int16.nii", "2-D 6x5 int16")
    save_nii(make_image(smooth((4, 3, 2, 3), np.float32), las_affine()), os.path.join(out, "dim4_float32_las.nii.gz"))
    note("dim4_float32_las.nii.gz", "4-D 4x3x2x3 float32, LAS")
    save_nii(make_image(smooth((3, 3, 2, 2, 2), np.uint8, 20), ras_affine()), os.path.join(out, "dim5_uint8.nii"))
    note("dim5_uint8.nii", "5-D 3x3x2x2x2 uint8, not a vector field")
    vec = np.zeros((4, 3, 2, 1, 3), np.float32)
    for c in range(3):
        vec[..., 0, c] = smooth((4, 3, 2), np.float32, 3.0) * (c + 1) - c
    save_nii(make_image(vec, oblique_affine(), intent="vector"), os.path.join(out, "vec5d_float32.nii.gz"))
    note("vec5d_float32.nii.gz", "5-D 4x3x2x1x3 float32 vector field, intent VECTOR, oblique")
    save_nii(make_image(vec.astype(np.float64), las_affine(), endian=">", intent="displacement vector"),
             os.path.join(out, "vec5d_float64_be_dispvect.nii"))
    note("vec5d_float64_be_dispvect.nii", "5-D vector field, float64 big-endian, intent DISPVECT, LAS")

    # Affine sources and orientations.
    d = smooth(SHAPE3, np.int16)
    save_nii(make_image(d, ras_affine(), qform=0, sform=2), os.path.join(out, "sform_only.nii"))
    note("sform_only.nii", "sform_code 2, qform_code 0")
    save_nii(make_image(d, oblique_affine(), qform=1, sform=0), os.path.join(out, "qform_only_oblique.nii"))
    note("qform_only_oblique.nii", "qform_code 1 (oblique rotation), sform_code 0")
    save_nii(make_image(d, oblique_las_affine(), qform=1, sform=0), os.path.join(out, "qform_only_qfac_neg.nii"))
    note("qform_only_qfac_neg.nii", "qform only, oblique with a reflection (qfac -1)")
    save_nii(make_image(d, ras_affine(), qform=0, sform=0), os.path.join(out, "no_orientation.nii"))
    note("no_orientation.nii", "qform_code 0 and sform_code 0: pixdim-only affine")
    save_nii(make_image(d, las_affine()), os.path.join(out, "las.nii"))
    note("las.nii", "LAS, sform and qform")
    save_nii(make_image(d, lpi_affine()), os.path.join(out, "lpi.nii.gz"))
    note("lpi.nii.gz", "LPI, sform and qform")
    save_nii(make_image(d, oblique_affine(), qform=1, sform=2), os.path.join(out, "oblique.nii.gz"))
    note("oblique.nii.gz", "oblique (rotations about three axes, anisotropic voxels)")
    img = make_image(d, las_affine(), qform=1, sform=1)
    img.set_qform(ras_affine(), code=1)
    save_nii(img, os.path.join(out, "sform_qform_differ.nii"))
    note("sform_qform_differ.nii", "qform RAS and sform LAS: the sform wins")

    # Scaling.
    p = os.path.join(out, "scaled_int16.nii")
    save_nii(make_image(ramp(SHAPE3, np.int16), ras_affine()), p)
    patch(p, 112, "<ff", 2.5, -10.0)
    note("scaled_int16.nii", "int16 with scl_slope 2.5, scl_inter -10")
    p = os.path.join(out, "scaled_uint8_be.nii")
    save_nii(make_image(ramp(SHAPE3, np.uint8), ras_affine(), endian=">"), p)
    patch(p, 112, ">ff", 0.125, 3.0)
    note("scaled_uint8_be.nii", "uint8 big-endian with scl_slope 0.125, scl_inter 3")
    p = os.path.join(out, "scaled_float32.nii")
    save_nii(make_image(smooth(SHAPE3, np.float32), ras_affine()), p)
    patch(p, 112, "<ff", -0.5, 100.0)
    note("scaled_float32.nii", "float32 with scl_slope -0.5, scl_inter 100")
    p = os.path.join(out, "slope_zero.nii")
    save_nii(make_image(smooth(SHAPE3, np.int16), ras_affine()), p)
    patch(p, 112, "<ff", 0.0, 5.0)
    note("slope_zero.nii", "scl_slope 0 (means no scaling; the intercept 5 is ignored)")
    p = os.path.join(out, "slope_nan.nii")
    save_nii(make_image(smooth(SHAPE3, np.int16), ras_affine()), p)
    patch(p, 112, "<ff", float("nan"), 5.0)
    note("slope_nan.nii", "scl_slope NaN (no scaling)")

    # File formats.
    save_pair(make_image(d, las_affine(), pair=True), os.path.join(out, "pair_int16.hdr"))
    note("pair_int16.hdr", ".hdr + .img pair (magic ni1), LAS")
    save_pair(make_image(smooth(SHAPE3, np.float32), oblique_affine(), endian=">", pair=True),
              os.path.join(out, "pair_gz_float32_be.hdr.gz"))
    note("pair_gz_float32_be.hdr.gz", "gzipped .hdr.gz + .img.gz pair, float32 big-endian, oblique")
    save_nii(make_image(smooth(SHAPE3, np.float64), oblique_affine(), version=2), os.path.join(out, "nifti2.nii"))
    note("nifti2.nii", "NIfTI-2 (540-byte header), float64, oblique")
    save_nii(make_image(smooth((4, 3, 2, 2), np.int32), lpi_affine(), version=2, endian=">"),
             os.path.join(out, "nifti2_be.nii.gz"))
    note("nifti2_be.nii.gz", "NIfTI-2 big-endian, gzipped, 4-D int32, LPI")
    save_pair(make_image(d, ras_affine(), version=2, pair=True), os.path.join(out, "nifti2_pair.hdr"))
    note("nifti2_pair.hdr", "NIfTI-2 .hdr + .img pair (magic ni2)")

    for ext in (".nii", ".nii.gz"):
        img = make_image(d, ras_affine())
        img.header.extensions.append(nib.nifti1.Nifti1Extension("comment", b"voxterm fixture: a header extension " * 3))
        img.header.extensions.append(nib.nifti1.Nifti1Extension(40, b"\x00\x01\x02\x03" * 9))
        name = "extension" + ext
        save_nii(img, os.path.join(out, name))
        note(name, "two header extensions (comment and code 40), vox_offset past 352")

    # Multi-member gzip: the same .nii split into two gzip members inside the data.
    buf = io.BytesIO()
    tmp = os.path.join(out, "_mm.nii")
    nib.save(make_image(smooth((6, 5, 4), np.float32), las_affine()), tmp)
    with open(tmp, "rb") as f:
        raw = f.read()
    os.remove(tmp)
    cut = 352 + 123
    buf.write(gzip_bytes(raw[:cut]))
    buf.write(gzip_bytes(raw[cut:200 + cut]))
    buf.write(gzip_bytes(raw[200 + cut:]))
    with open(os.path.join(out, "multimember.nii.gz"), "wb") as f:
        f.write(buf.getvalue())
    note("multimember.nii.gz", "three concatenated gzip members, split inside the header/data")

    # Unsupported datatypes, which voxterm must refuse with a clear message.
    rgb = np.zeros(SHAPE3, dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    save_nii(nib.Nifti1Image(rgb, ras_affine()), os.path.join(out, "unsupported_rgb24.nii"))
    note("unsupported_rgb24.nii", "RGB24 (refused)")
    save_nii(nib.Nifti1Image(np.zeros(SHAPE3, np.complex64), ras_affine()), os.path.join(out, "unsupported_complex64.nii"))
    note("unsupported_complex64.nii", "complex64 (refused)")
    return made


# ---------------------------------------------------------------- expectations

def finite_or_text(x):
    x = float(x)
    return x if math.isfinite(x) else ("nan" if math.isnan(x) else ("inf" if x > 0 else "-inf"))


def expectation(path, name):
    img = nib.load(path)
    # The header as stored (img.header has scl_slope/inter and vox_offset reset by nibabel,
    # which moves them into img.dataobj).
    fm = img.file_map.get("header", img.file_map["image"])
    with nib.openers.ImageOpener(fm.filename) as f:
        hdr = img.header_class.from_fileobj(f)
    data = img.get_fdata(dtype=np.float64)
    shape = list(img.shape)
    slope, inter = img.dataobj.slope, img.dataobj.inter
    if slope == 1 and inter == 0:
        slope = None
    probes = []
    n = data.size
    for flat in sorted({0, 1, 2, n // 3, n // 2, (2 * n) // 3, n - 2, n - 1}):
        idx = np.unravel_index(flat, data.shape, order="F")
        probes.append({"index": [int(i) for i in idx], "value": float(data[idx])})
    return {
        "file": name,
        "version": 2 if isinstance(hdr, nib.Nifti2Header) else 1,
        "byte_order": "big" if hdr.endianness == ">" else "little",
        "shape": shape,
        "datatype": np.dtype(hdr.get_data_dtype()).name,
        "datatype_code": int(hdr["datatype"]),
        "intent_code": int(hdr["intent_code"]),
        "pixdim": [float(v) for v in hdr["pixdim"]],
        "vox_offset": float(hdr["vox_offset"]),
        "data_offset": int(img.dataobj.offset),
        "scl_slope": finite_or_text(hdr["scl_slope"]),
        "scl_inter": finite_or_text(hdr["scl_inter"]),
        "slope_inter": None if slope is None else [float(slope), float(inter)],
        "qform_code": int(hdr["qform_code"]),
        "sform_code": int(hdr["sform_code"]),
        "affine": [[float(v) for v in row] for row in img.affine],
        "axcodes": "".join(nib.aff2axcodes(img.affine)),
        "min": float(np.nanmin(data)),
        "max": float(np.nanmax(data)),
        "mean": float(np.nanmean(data)),
        "probes": probes,
    }


README_HEAD = """# NIfTI fixtures

Tiny images written by nibabel, and what nibabel reads back from them (`expected.json`).
voxterm's `NIfTITests` read every file and compare with `expected.json`: shape, datatype,
byte order, pixdim, scl_slope/scl_inter and the scaling actually applied, qform/sform codes,
`img.affine` (nibabel's best affine), `nib.aff2axcodes`, min/max/mean of `get_fdata()` and a few
probe voxels.

Made by `Scripts/make_fixtures.py` (nibabel {nibabel}, numpy {numpy}):

    pip install nibabel numpy
    python3 Scripts/make_fixtures.py           # rewrites this folder and this README
    python3 Scripts/make_fixtures.py --check   # regenerates in a temporary folder and compares bytes

The script is deterministic (fixed seed; gzip members written with mtime 0 and no name). A few
header fields nibabel refuses to write (scl_slope 0 or NaN, an exact slope/intercept on integer
data) are patched into the saved bytes; `expected.json` is always what nibabel reads from the
committed file. Pair files are named by their header (`.hdr` / `.hdr.gz`); the image half
(`.img` / `.img.gz`) sits beside it. Bad-input files are not committed: the tests make them
from these fixtures.

"""


def write_readme(out, expected):
    rows = [f"| `{f['file']}` | {f['notes']} |" for f in expected["fixtures"] + expected["unsupported"]]
    text = README_HEAD.format(nibabel=expected["nibabel"], numpy=expected["numpy"])
    text += "| File | What it covers |\n|---|---|\n" + "\n".join(rows) + "\n"
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(text)


def write_all(out):
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.remove(os.path.join(out, f))
    made = build(out)
    expected = {"nibabel": nib.__version__, "numpy": np.__version__, "fixtures": [], "unsupported": []}
    for name, what in made:
        path = os.path.join(out, name)
        if name.startswith("unsupported_"):
            hdr = nib.load(path).header
            expected["unsupported"].append({"file": name, "datatype_code": int(hdr["datatype"]), "notes": what})
            continue
        e = expectation(path, name)
        e["notes"] = what
        expected["fixtures"].append(e)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    write_readme(out, expected)
    return made


def main():
    if "--check" in sys.argv:
        tmp = tempfile.mkdtemp()
        try:
            write_all(tmp)
            bad = []
            for f in sorted(os.listdir(tmp)):
                with open(os.path.join(tmp, f), "rb") as a, open(os.path.join(FIXTURES, f), "rb") as b:
                    if a.read() != b.read():
                        bad.append(f)
            print("fixtures identical" if not bad else "differ: " + ", ".join(bad))
            sys.exit(1 if bad else 0)
        finally:
            shutil.rmtree(tmp)
    made = write_all(FIXTURES)
    total = sum(os.path.getsize(os.path.join(FIXTURES, f)) for f in os.listdir(FIXTURES))
    print(f"{len(made)} fixtures, {total} bytes in {os.path.normpath(FIXTURES)}")


if __name__ == "__main__":
    main()
