#!/usr/bin/env bash
# Loading speed of voxterm against nibabel, side by side in one run.
#
#   Scripts/bench_io.sh [FILE] [ROUNDS]
#
# Builds voxterm in release mode, then ROUNDS times (default 3), alternating so both see the
# same machine load: `voxterm bench io FILE` (median of 7 loads: header, inflate, decode to
# float32) and nibabel's `np.asarray(nib.load(FILE).dataobj)` (median of 7 loads, the array in
# its on-disk dtype). Prints each median and the ratio voxterm / nibabel (below 1: voxterm faster).
# FILE defaults to mricron-data's ch2better.nii.gz (301x370x316 uint8, 35 MB uncompressed).
set -euo pipefail
cd "$(dirname "$0")/.."
FILE="${1:-/usr/share/mricron/templates/ch2better.nii.gz}"
ROUNDS="${2:-3}"
[ -r "$FILE" ] || { echo "bench_io.sh: $FILE: not readable (apt-get install mricron-data?)" >&2; exit 2; }
python3 -c 'import nibabel, numpy' 2>/dev/null || { echo "bench_io.sh: python3 with nibabel and numpy is needed (pip install nibabel numpy)" >&2; exit 2; }

swift build -c release --product voxterm >&2
VOXTERM="$(swift build -c release --show-bin-path)/voxterm"

nibabel_median() {
    python3 - "$1" <<'PY'
import sys, time
import numpy as np, nibabel as nib
f = sys.argv[1]
times = []
for _ in range(7):
    t0 = time.perf_counter()
    a = np.asarray(nib.load(f).dataobj)
    times.append(time.perf_counter() - t0)
times.sort()
print("%.4f" % times[3])
PY
}

echo "file: $FILE"
echo "nibabel $(python3 -c 'import nibabel; print(nibabel.__version__)'), numpy $(python3 -c 'import numpy; print(numpy.__version__)'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
vs=(); ns=()
for r in $(seq 1 "$ROUNDS"); do
    line="$("$VOXTERM" bench io --repeats 7 "$FILE")"
    v="$(sed -n 's/.*median \([0-9.]*\) s.*/\1/p' <<<"$line")"
    n="$(nibabel_median "$FILE")"
    vs+=("$v"); ns+=("$n")
    printf 'round %d: voxterm %s s, nibabel %s s, ratio %s\n' "$r" "$v" "$n" "$(python3 -c "print('%.2f' % ($v / $n))")"
done
python3 - "${vs[*]}" "${ns[*]}" <<'PY'
import statistics, sys
v = [float(x) for x in sys.argv[1].split()]
n = [float(x) for x in sys.argv[2].split()]
mv, mn = statistics.median(v), statistics.median(n)
print("median over rounds: voxterm %.4f s, nibabel %.4f s, ratio voxterm/nibabel %.2f (%s)"
      % (mv, mn, mv / mn, "voxterm faster" if mv < mn else "voxterm SLOWER"))
PY
