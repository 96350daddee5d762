#!/usr/bin/env python3
"""Writes MGH/MGZ, NRRD and MetaImage files with the reference writers, and a DICOM series with
pydicom, into OUTDIR, with what the reference readers say about each in OUTDIR/manifest.json:
shape, affine (voxel -> RAS+ mm) and the voxel values in file order (x fastest).

Run by ImageIOTests at test time (python3 with nibabel, SimpleITK, pydicom; pynrrd optional;
dcm2niix for the DICOM references):  make_fixtures.py OUTDIR
"""
import gzip, json, os, shutil, subprocess, sys, tempfile

import numpy as np
import nibabel as nib
import SimpleITK as sitk

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
manifest = []
rng = np.random.default_rng(19)

# An oblique affine (rotation about an odd axis, anisotropic voxels, an offset).
def rotation(axis, angle):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k

R = rotation([0.3, -0.5, 0.8], 0.4)
SPACING = np.array([0.9, 1.2, 2.5])
AFFINE = np.eye(4)
AFFINE[:3, :3] = R @ np.diag(SPACING)
AFFINE[:3, 3] = [-31.5, 12.25, 40.0]
LPS = np.diag([-1.0, -1.0, 1.0])


def values_f(a):
    """Voxels in file order (x fastest) as a list of floats."""
    return [float(v) for v in np.asarray(a).reshape(-1, order="F")]


def add(name, shape, affine, values, reader, **extra):
    manifest.append(dict(file=name, shape=[int(s) for s in shape], affine=np.asarray(affine).tolist(),
                         values=values, reader=reader, **extra))


def sitk_reference(name, reader="SimpleITK"):
    """What SimpleITK reads from OUT/name: shape, RAS affine, values (x fastest)."""
    img = sitk.ReadImage(os.path.join(out, name))
    n = img.GetDimension()
    d = np.eye(3)
    d[:n, :n] = np.array(img.GetDirection()).reshape(n, n)
    spacing = list(img.GetSpacing()) + [1.0] * (3 - n)
    origin = list(img.GetOrigin()) + [0.0] * (3 - n)
    a = np.eye(4)
    a[:3, :3] = LPS @ d @ np.diag(spacing)
    a[:3, 3] = LPS @ np.array(origin)
    arr = sitk.GetArrayFromImage(img)  # z, y, x
    add(name, list(img.GetSize()) + [1] * (3 - n), a, [float(v) for v in arr.reshape(-1)], reader)


# MGH / MGZ (nibabel writes and reads).
SHAPE = (5, 4, 3)
for dtype, code in [(np.uint8, "u8"), (np.int16, "i16"), (np.int32, "i32"), (np.float32, "f32")]:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        data = rng.integers(max(info.min, -30000), min(info.max, 30000), size=SHAPE, endpoint=True).astype(dtype)
    else:
        data = rng.normal(0, 1000, size=SHAPE).astype(dtype)
    for ext in ("mgh", "mgz"):
        name = f"mgh_{code}.{ext}"
        nib.save(nib.MGHImage(data, AFFINE), os.path.join(out, name))
        img = nib.load(os.path.join(out, name))
        add(name, img.shape, img.affine, values_f(np.asarray(img.dataobj)), "nibabel")
# 4-D (frames) and a multi-member gzip (two members, as `cat a.gz b.gz` makes).
frames = rng.integers(0, 200, size=(4, 3, 2, 3)).astype(np.int16)
nib.save(nib.MGHImage(frames, AFFINE), os.path.join(out, "mgh_frames.mgz"))
img = nib.load(os.path.join(out, "mgh_frames.mgz"))
add("mgh_frames.mgz", img.shape, img.affine, values_f(np.asarray(img.dataobj)), "nibabel")
raw = gzip.decompress(open(os.path.join(out, "mgh_f32.mgz"), "rb").read())
with open(os.path.join(out, "mgh_multimember.mgz"), "wb") as f:
    f.write(gzip.compress(raw[:100]) + gzip.compress(raw[100:]))
img = nib.load(os.path.join(out, "mgh_multimember.mgz"))
add("mgh_multimember.mgz", img.shape, img.affine, values_f(np.asarray(img.dataobj)), "nibabel")
# goodRASFlag 0: nibabel's default affine.
hdr = bytearray(open(os.path.join(out, "mgh_u8.mgh"), "rb").read())
hdr[28:30] = b"\x00\x00"
open(os.path.join(out, "mgh_badras.mgh"), "wb").write(bytes(hdr))
img = nib.load(os.path.join(out, "mgh_badras.mgh"))
add("mgh_badras.mgh", img.shape, img.affine, values_f(np.asarray(img.dataobj)), "nibabel")

# NRRD and MetaImage (SimpleITK writes and reads): every scalar type, oblique, compressed or not.
SITK_TYPES = [("i8", sitk.sitkInt8), ("u8", sitk.sitkUInt8), ("i16", sitk.sitkInt16), ("u16", sitk.sitkUInt16),
              ("i32", sitk.sitkInt32), ("u32", sitk.sitkUInt32), ("i64", sitk.sitkInt64), ("u64", sitk.sitkUInt64),
              ("f32", sitk.sitkFloat32), ("f64", sitk.sitkFloat64)]
base = rng.integers(0, 120, size=SHAPE[::-1]).astype(np.float64) + 0.25 * rng.integers(0, 4, size=SHAPE[::-1])
lps_dir = LPS @ R
for code, t in SITK_TYPES:
    arr = base if code.startswith("f") else np.floor(base)
    if code in ("i8", "i16", "i32", "i64"):
        arr = arr - 60
    img = sitk.Cast(sitk.GetImageFromArray(arr), t)
    img.SetSpacing(SPACING.tolist())
    img.SetDirection(lps_dir.reshape(-1).tolist())
    img.SetOrigin((LPS @ AFFINE[:3, 3]).tolist())
    for ext, comp in [("nrrd", False), ("nrrd", True), ("mha", False), ("mha", True), ("nhdr", True), ("mhd", False), ("mhd", True)]:
        name = f"sitk_{code}{'_z' if comp else ''}.{ext}"
        sitk.WriteImage(img, os.path.join(out, name), useCompression=comp)
        sitk_reference(name)

# A 2-D image (one slice) and a big-endian MetaImage (SimpleITK writes little-endian only:
# byte-swap the data of an uncompressed .mha and flip BinaryDataByteOrderMSB).
img2 = sitk.Cast(sitk.GetImageFromArray(np.floor(base[0])), sitk.sitkInt16)
img2.SetSpacing([0.7, 1.3]); img2.SetOrigin([3.0, -4.0])
sitk.WriteImage(img2, os.path.join(out, "sitk_2d.mha"))
sitk_reference("sitk_2d.mha")
for code in ("i16", "f64", "u32"):
    src = open(os.path.join(out, f"sitk_{code}.mha"), "rb").read()
    cut = src.index(b"ElementDataFile = LOCAL\n") + len(b"ElementDataFile = LOCAL\n")
    head, data = src[:cut], src[cut:]
    dt = {"i16": ">i2", "f64": ">f8", "u32": ">u4"}[code]
    swapped = np.frombuffer(data, dtype=dt.replace(">", "<")).astype(dt).tobytes()
    head = head.replace(b"BinaryDataByteOrderMSB = False", b"BinaryDataByteOrderMSB = True")
    name = f"sitk_{code}_msb.mha"
    open(os.path.join(out, name), "wb").write(head + swapped)
    sitk_reference(name)

# pynrrd (when installed): big-endian raw and gzip, RAS space, read back by pynrrd.
try:
    import nrrd
except ImportError:
    nrrd = None
if nrrd is not None:
    for dtype, enc in [(">i2", "raw"), (">f4", "gzip"), ("<u2", "gzip"), (">f8", "raw")]:
        data = np.floor(base.transpose(2, 1, 0)).astype(dtype)  # x, y, z
        header = {"space": "right-anterior-superior", "space directions": AFFINE[:3, :3].T,
                  "space origin": AFFINE[:3, 3], "encoding": enc, "endian": "big" if dtype[0] == ">" else "little",
                  "kinds": ["domain"] * 3}
        name = f"pynrrd_{dtype[1:]}_{'be' if dtype[0] == '>' else 'le'}_{enc}.nrrd"
        nrrd.write(os.path.join(out, name), data, header, index_order="F")
        back, h = nrrd.read(os.path.join(out, name), index_order="F")
        a = np.eye(4)
        a[:3, :3] = np.asarray(h["space directions"], float).T
        a[:3, 3] = h["space origin"]
        add(name, back.shape, a, values_f(back), "pynrrd")

# DICOM: a series written with pydicom from the oblique affine, in LPS as DICOM stores it.
try:
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid, MRImageStorage
except ImportError:
    pydicom = None
if pydicom is not None and shutil.which("dcm2niix"):
    ddir = os.path.join(out, "dicom_series")
    os.makedirs(ddir, exist_ok=True)
    nx, ny, nz = 8, 6, 5
    vol = rng.integers(0, 1000, size=(nx, ny, nz)).astype(np.int16)
    # DICOM rows run along the image's y, columns along x: direction cosines of x then y, in LPS.
    lps_aff = np.diag([-1, -1, 1, 1]) @ AFFINE
    ex = lps_aff[:3, 0] / SPACING[0]
    ey = lps_aff[:3, 1] / SPACING[1]
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    for k in range(nz):
        ds = Dataset()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.Modality = "MR"
        ds.PatientName = "Phantom^Oblique"
        ds.PatientID = "0"
        ds.SeriesNumber = 7
        ds.InstanceNumber = k + 1
        ds.SeriesDescription = "oblique phantom"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M"]
        ds.StudyDate = "20260101"; ds.SeriesTime = "120000"; ds.AcquisitionTime = "120000"
        ds.ImageOrientationPatient = [float(v) for v in np.concatenate([ex, ey])]
        ds.ImagePositionPatient = [float(v) for v in lps_aff[:3, :3] @ [0, 0, k] + lps_aff[:3, 3]]
        ds.PixelSpacing = [float(SPACING[1]), float(SPACING[0])]  # row spacing (y), column spacing (x)
        ds.SliceThickness = float(SPACING[2])
        ds.Rows, ds.Columns = ny, nx
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.PixelData = np.ascontiguousarray(vol[:, :, k].T).tobytes()  # rows (y) of columns (x)
        ds.is_little_endian, ds.is_implicit_VR = True, False
        pydicom.dcmwrite(os.path.join(ddir, f"slice{k:03d}.dcm"), ds, enforce_file_format=True)
    manifest.append(dict(file="dicom_series", shape=[nx, ny, nz], affine=AFFINE.tolist(),
                         values=values_f(vol), reader="geometry it was written with"))

    # dcm2niix + nibabel on the same inputs (the synthetic series and pydicom's test files).
    def dcm2niix_reference(folder, label):
        with tempfile.TemporaryDirectory() as t:
            subprocess.run(["dcm2niix", "-z", "n", "-f", "%s", "-o", t, folder], check=True, capture_output=True)
            niis = sorted(f for f in os.listdir(t) if f.endswith(".nii"))
            if len(niis) != 1:
                return
            img = nib.load(os.path.join(t, niis[0]))
            add(label, img.shape, img.affine, values_f(np.asarray(img.dataobj, dtype=np.float64) * 1), "dcm2niix + nibabel")
    dcm2niix_reference(ddir, "dicom_series")
    # pydicom's own test files that are CT/MR images (single frames and a multi-frame MR).
    # (Only files in the installed package: nothing is downloaded.)
    test_files = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
    for name in ("CT_small.dcm", "MR_small.dcm", "MR_small_bigendian.dcm", "rtdose.dcm"):
        src = os.path.join(test_files, name)
        if not os.path.exists(src):
            continue
        folder = os.path.join(out, "pydicom_" + name[:-4])
        os.makedirs(folder, exist_ok=True)
        shutil.copy(src, folder)
        dcm2niix_reference(folder, "pydicom_" + name[:-4])

json.dump(manifest, open(os.path.join(out, "manifest.json"), "w"))
print(len(manifest))
