#!/usr/bin/env bash
# Installs what is missing, builds voxterm in release mode and runs the whole test suite, then
# builds the libFuzzer targets (Fuzz/) and runs each briefly from its seeds; any crash, leak,
# timeout or over-allocation fails the run (artifacts in .fuzz/TARGET/crashes/).
#   VOXTERM_FUZZ_SECONDS=N  seconds per fuzz target (default 15; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-deps.sh --test
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
