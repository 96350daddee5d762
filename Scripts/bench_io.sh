#!/usr/bin/env bash
# Loading speed of voxterm against nibabel, side by side in one run.
#
#   Scripts/bench_io.sh [FILE] [ROUNDS]
#
# Builds voxterm in release mode, then ROUNDS times (default 5), alternating so both see the
# same machine load: `voxterm bench io FILE` (median of 7 loads: header, inflate, decode to
# float32) and the peer's load (median of 7, the array in its on-disk dtype): nibabel's
# `np.asarray(nib.load(FILE).dataobj)` for NIfTI and MGH/MGZ, SimpleITK's
# `sitk.GetArrayViewFromImage(sitk.ReadImage(FILE))` for NRRD and MetaImage. Prints each round's medians and ratio voxterm / nibabel (below 1: voxterm
# faster), then the median over rounds of each time and of the per-round ratios (robust to other
# processes loading the machine in bursts).
# FILE defaults to mricron-data's ch2better.nii.gz (301x370x316 uint8, 35 MB uncompressed).
set -euo pipefail
cd "$(dirname "$0")/.."
FILE="${1:-/usr/share/mricron/templates/ch2better.nii.gz}"
ROUNDS="${2:-5}"
[ -r "$FILE" ] || { echo "bench_io.sh: $FILE: not readable (apt-get install mricron-data?)" >&2; exit 2; }
python3 -c 'import nibabel, numpy, SimpleITK' 2>/dev/null || { echo "bench_io.sh: python3 with nibabel, numpy and SimpleITK is needed (pip install nibabel numpy SimpleITK)" >&2; exit 2; }
case "${FILE,,}" in
  *.nrrd|*.nhdr|*.mha|*.mhd) PEER=SimpleITK ;;
  *) PEER=nibabel ;;
esac

swift build -c release --product voxterm >&2
VOXTERM="$(swift build -c release --show-bin-path)/voxterm"

nibabel_median() {
    python3 - "$1" "$PEER" <<'PY'
import sys, time
import numpy as np, nibabel as nib, SimpleITK as sitk
f = sys.argv[1]
times = []
for _ in range(7):
    t0 = time.perf_counter()
    if sys.argv[2] == "SimpleITK":
        a = sitk.GetArrayViewFromImage(sitk.ReadImage(f))
    else:
        a = np.asarray(nib.load(f).dataobj)
    times.append(time.perf_counter() - t0)
times.sort()
print("%.4f" % times[3])
PY
}

echo "file: $FILE"
echo "peer $PEER; nibabel $(python3 -c 'import nibabel; print(nibabel.__version__)'), SimpleITK $(python3 -c 'import SimpleITK; print(SimpleITK.Version.VersionString())'), numpy $(python3 -c 'import numpy; print(numpy.__version__)'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
vs=(); ns=()
for r in $(seq 1 "$ROUNDS"); do
    line="$("$VOXTERM" bench io --repeats 7 "$FILE")"
    v="$(sed -n 's/.*median \([0-9.]*\) s.*/\1/p' <<<"$line")"
    n="$(nibabel_median "$FILE")"
    vs+=("$v"); ns+=("$n")
    printf 'round %d: voxterm %s s, %s %s s, ratio %s\n' "$r" "$v" "$PEER" "$n" "$(python3 -c "print('%.2f' % ($v / $n))")"
done
python3 - "${vs[*]}" "${ns[*]}" "$PEER" <<'PY'
import statistics, sys
v = [float(x) for x in sys.argv[1].split()]
n = [float(x) for x in sys.argv[2].split()]
peer = sys.argv[3]
mv, mn = statistics.median(v), statistics.median(n)
mr = statistics.median([a / b for a, b in zip(v, n)])
print("median over rounds: voxterm %.4f s, %s %.4f s; median ratio voxterm/%s %.2f (%s)"
      % (mv, peer, mn, peer, mr, "voxterm faster" if mr < 1 else "voxterm SLOWER"))
PY
