#!/usr/bin/env bash
# Builds a libFuzzer target and runs it.
#   Scripts/fuzz.sh TARGET [SECONDS] [extra libFuzzer flags...]
# TARGET is a file name under Fuzz/ without .swift (e.g. NIfTIReaderFuzz). The target is compiled
# with the model sources it needs as ONE module (their `import VolumeCore` lines dropped), with
# -sanitize=fuzzer,address. Seeds come from Tests/NIfTITests/Fixtures; crashes land in .fuzz/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: Scripts/fuzz.sh TARGET [SECONDS]}"
seconds="${2:-60}"
shift $(( $# >= 2 ? 2 : 1 ))
work=".fuzz/$target"
mkdir -p "$work/src" "$work/corpus" "$work/crashes"
rm -f "$work"/src/*.swift
case "$target" in
  NIfTIReaderFuzz) sources=(Sources/VolumeCore Sources/NIfTI); seeds=Tests/NIfTITests/Fixtures ;;
  *) sources=(Sources/VolumeCore); seeds="" ;;
esac
n=0
for f in $(find "${sources[@]}" -name '*.swift' | sort); do
  n=$((n + 1))
  sed -e 's/^import VolumeCore$//' -e 's/^internal import CZlib$/import CZlib/' -e 's/^import NIfTI$//' \
      -e 's/^@_exported import .*$//' "$f" > "$work/src/$n-$(basename "$f")"
done
cp "Fuzz/$target.swift" "$work/src/"
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name Fuzzed -I Sources/CZlib \
  "$work"/src/*.swift -lz -o "$work/fuzzer"
if [ -n "$seeds" ] && [ -z "$(ls -A "$work/corpus")" ]; then
  find "$seeds" -type f \( -name '*.nii' -o -name '*.gz' -o -name '*.hdr' \) -size -64k -exec cp {} "$work/corpus/" \;
fi
# -rss_limit_mb: the reader must never need much memory for a small input.
"$work/fuzzer" "$work/corpus" -max_total_time="$seconds" -rss_limit_mb=512 -max_len=65536 \
  -artifact_prefix="$work/crashes/" -print_final_stats=1 "$@"
