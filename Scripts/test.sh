#!/usr/bin/env bash
# Installs what is missing, builds voxterm in release mode and runs the whole test suite, then
# builds the libFuzzer targets (Fuzz/) and runs each briefly from its seeds; any crash, leak,
# timeout or over-allocation fails the run (artifacts in .fuzz/TARGET/crashes/).
#   VOXTERM_FUZZ_SECONDS=N  seconds per fuzz target (default 15; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-deps.sh --test
# Some suites skip themselves when a tool is missing (so a developer can run the rest): here, after
# the install, every tool and Python package the tests use must be there, or the run fails.
missing=()
for tool in tmux xterm Xvfb import dcm2niix sbatch slurmctld slurmd slurmdbd munged mariadbd mariadb-install-db sacct; do
  command -v "$tool" > /dev/null || missing+=("$tool")
done
python3 -c "import nibabel, numpy, scipy, PIL, SimpleITK, pydicom, nrrd, ants" 2> /dev/null || missing+=("python3 packages (nibabel numpy scipy pillow SimpleITK pydicom pynrrd antspyx)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: missing after Scripts/install-deps.sh --test: ${missing[*]}" >&2
  exit 1
fi
bash Scripts/check-deps.sh
swift build -c release
swift test -c release -Xswiftc -enable-testing "$@"
fuzz_seconds="${VOXTERM_FUZZ_SECONDS:-15}"
if [ "$fuzz_seconds" -gt 0 ]; then
  start=$(date +%s)
  bash Scripts/fuzz.sh --build-only
  for target in NIfTIReaderFuzz LabelTableFuzz SupportSetFuzz ITKTransformFuzz MGHFuzz NRRDFuzz MetaImageFuzz; do
    echo "fuzz: $target for $fuzz_seconds s" >&2
    bash Scripts/fuzz.sh --fresh "$target" "$fuzz_seconds" 2>&1 | { grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)" >&2 || true; }
  done
  echo "fuzz: all targets passed in $(( $(date +%s) - start )) s" >&2
fi
