#!/usr/bin/env bash
# Installs what voxterm needs and is missing on a Debian machine (run as root, or with sudo on PATH).
#   Scripts/install-deps.sh          build + run dependencies (C libraries, bundled-sample tools)
#   Scripts/install-deps.sh --test   also what the test suite needs (tmux, mricron-data, nibabel, antspyx,
#                                    SimpleITK, pydicom, pynrrd, and slurm-wlm + munge for the one-node SLURM
#                                    cluster of the batch tests)
set -euo pipefail
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

if ! command -v swift >/dev/null 2>&1; then
  echo "install-deps: the Swift toolchain (6.2 or newer) is not on PATH; install it from swift.org or your distribution, then re-run." >&2
  exit 1
fi

# dcm2niix: DICOM series are converted by it (ImageIO/DICOM.swift); libdeflate: the gzip layer.
# libchafa-dev: sixel/kitty/symbol encoding; its headers include glib's, which it does not depend on.
apt_pkgs=(libncursesw5-dev libpng-dev zlib1g-dev libdeflate-dev dcm2niix libchafa-dev libglib2.0-dev)
# xterm (VT340 sixel), Xvfb and ImageMagick (import) for the real-terminal graphics test; slurm-wlm + munge (+ slurmdbd and MariaDB's server and client cores for sacct: the -core packages only, so no system database service is started or enabled) for the batch tests.
if [ $want_test = 1 ]; then apt_pkgs+=(tmux mricron-data python3 python3-pip xterm xvfb imagemagick slurm-wlm munge slurmdbd mariadb-server-core mariadb-client-core); fi
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ $want_test = 1 ]; then
  py_missing=()
  python3 -c "import nibabel, numpy" 2>/dev/null || py_missing+=(nibabel numpy)
  python3 -c "import ants" 2>/dev/null || py_missing+=(antspyx)
  # SegmentCLITests: the shape-based interpolation baseline (scipy.ndimage distance transforms).
  python3 -c "import scipy.ndimage" 2>/dev/null || py_missing+=(scipy)
  python3 -c "import PIL" 2>/dev/null || py_missing+=(pillow)
  # Reference writers/readers of Tests/ImageIOTests (MGH: nibabel; NRRD/MetaImage: SimpleITK, pynrrd; DICOM: pydicom).
  python3 -c "import SimpleITK" 2>/dev/null || py_missing+=(SimpleITK)
  python3 -c "import pydicom" 2>/dev/null || py_missing+=(pydicom)
  python3 -c "import nrrd" 2>/dev/null || py_missing+=(pynrrd)
  if [ ${#py_missing[@]} -gt 0 ]; then
    echo "install-deps: pip install ${py_missing[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${py_missing[@]}" 2>/dev/null \
      || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "${py_missing[@]}"
  fi
fi
