#!/usr/bin/env bash
# Builds a libFuzzer target and runs it.
#   Scripts/fuzz.sh TARGET [SECONDS] [extra libFuzzer flags...]
#   Scripts/fuzz.sh --build-only
#   Scripts/fuzz.sh --fresh TARGET SECONDS   (CI: a throw-away corpus made from the seeds only)
# TARGET is a file name under Fuzz/ without .swift (NIfTIReaderFuzz, LabelTableFuzz, SupportSetFuzz,
# ITKTransformFuzz, MGHFuzz, NRRDFuzz, MetaImageFuzz). The target is compiled with the model sources it needs as ONE module (their
# `import VolumeCore`-style lines dropped) with -sanitize=fuzzer,address; libFuzzer's runtime
# (libclang_rt.fuzzer) ships with the Swift toolchain under usr/lib/clang/*/lib/linux.
# Seeds come from Fuzz/seeds/TARGET and the test fixtures; the growing corpus, the binary and any
# crash (crash-*, leak-*, timeout-*, oom-*) land in .fuzz/TARGET/. Exits non-zero when a run fails.
# Extra flags override the defaults, e.g. -runs=10000000 to stop after ten million executions.
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=0 fresh=0
if [ "${1:-}" = "--build-only" ]; then build_only=1; shift; fi
if [ "${1:-}" = "--fresh" ]; then fresh=1; shift; fi
target="${1:-}"
seconds="${2:-60}"
[ $# -gt 0 ] && shift $(( $# >= 2 ? 2 : 1 ))
case "$target" in
  "") [ "$build_only" = 1 ] || { echo "usage: Scripts/fuzz.sh [--build-only] TARGET [SECONDS] [libFuzzer flags...]" >&2; exit 2; } ;;
  # Largest input (time per run grows with it): room for a header, extensions and a small image;
  # a label table of some 30 lines; a manifest of half a dozen examples; a transform file 5 times
  # longer than a real one.
  NIfTIReaderFuzz) max_len=4096 ;;
  LabelTableFuzz|SupportSetFuzz) max_len=1024 ;;
  ITKTransformFuzz) max_len=1536 ;;
  # An MGH header (284 bytes) with a small image and its tail; a NRRD/MetaImage header with a little data.
  MGHFuzz) max_len=2048 ;;
  NRRDFuzz|MetaImageFuzz) max_len=2048 ;;
  *) echo "unknown fuzz target $target (see Fuzz/)" >&2; exit 2 ;;
esac
# All targets share ONE binary (built once; Fuzz/Entry.swift dispatches on VOXTERM_FUZZ_TARGET),
# compiled from the model sources the parsers live in.
sources=(Sources/VolumeCore Sources/NIfTI Sources/ImageIO Sources/Segmentation/SupportSet.swift Sources/Segmentation/SegmentationError.swift
         Sources/Registration/Transforms/ITKTransformFile.swift
         $(ls Sources/SliceRendering/*.swift | grep -v PNGCodec.swift))
mkdir -p .fuzz/src
rm -f .fuzz/src/*.swift
n=0
for f in $(find "${sources[@]}" -name '*.swift' | sort) Fuzz/*.swift; do
  n=$((n + 1))
  sed -E -e 's/^(@_exported )?import (VolumeCore|NIfTI|ImageIO|Registration|Segmentation|SliceRendering)$//' \
      -e 's/^internal import (CZlib|CDeflate)$/import \1/' "$f" > ".fuzz/src/$n-$(basename "$f")"
done
# Rebuild only when a source changed; rename into place so a running fuzzer is not disturbed.
stamp=$(cat .fuzz/src/*.swift | cksum)
if [ ! -x .fuzz/fuzzer ] || [ "$(cat .fuzz/stamp 2>/dev/null)" != "$stamp" ]; then
  echo "fuzz: building .fuzz/fuzzer" >&2
  # ld.gold warns once per ASan helper symbol ("Cannot export local symbol"); that noise is dropped.
  swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name Fuzzed -package-name voxterm -I Sources/CZlib -I Sources/CDeflate \
    .fuzz/src/*.swift -lz -ldeflate -o .fuzz/fuzzer.new 2> >(grep -v "Cannot export local symbol" >&2)
  mv .fuzz/fuzzer.new .fuzz/fuzzer
  echo "$stamp" > .fuzz/stamp
fi
[ "$build_only" = 1 ] && exit 0
work=".fuzz/$target"
corpus="$work/corpus"
if [ "$fresh" = 1 ]; then corpus=$(mktemp -d "${TMPDIR:-/tmp}/voxterm-fuzz-corpus.XXXXXX"); trap 'rm -rf "$corpus"' EXIT; fi
mkdir -p "$corpus" "$work/crashes"

# Seeds (only into an empty corpus, so a long run's corpus is kept).
if [ -z "$(ls -A "$corpus")" ]; then
  [ -d "Fuzz/seeds/$target" ] && cp Fuzz/seeds/"$target"/* "$corpus/"
  case "$target" in
    NIfTIReaderFuzz)
      # The first byte picks the mode (see the target): 0 as-is, 1 compressed, 2 as a .hdr/.img
      # pair, 3 behind a gzip header. A .nii.gz fixture minus its 10-byte gzip header feeds mode 3.
      for f in $(find Tests/NIfTITests/Fixtures -type f -size -5k \( -name '*.nii' -o -name '*.gz' -o -name '*.hdr' \)); do
        b=$(basename "$f")
        case "$f" in
          *.gz) { printf '\x00'; cat "$f"; } > "$corpus/0-$b"
                { printf '\x03'; tail -c +11 "$f"; } > "$corpus/3-$b" ;;
          *.hdr) img="${f%.hdr}.img"
                 { printf '\x02'; head -c 348 "$f"; [ -f "$img" ] && cat "$img"; } > "$corpus/2-$b" ;;
          *) for m in 0 1 2; do { printf "\\x0$m"; cat "$f"; } > "$corpus/$m-$b"; done ;;
        esac
      done ;;
    LabelTableFuzz)
      find Tests/SliceRenderingTests Samples -maxdepth 1 -type f -size -5k \( -name '*.txt' -o -name '*.lut' \) \
        -exec cp {} "$corpus/" \; ;;
  esac
fi
# Input size, memory and time are bounded: a parser must never need much memory or time for a
# small input (an allocation over -malloc_limit_mb or a run over -timeout seconds is a failure).
# No allocation stacks and a 1 MB quarantine by default (Swift allocates a lot; a 16 MB quarantine
# made the NIfTI target several times slower, as every run frees a decoded image); use-after-free
# of recent blocks and leaks are still detected. Set ASAN_OPTIONS to get stacks when reproducing a crash.
export ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=0:quarantine_size_mb=1}"
# libFuzzer reports a crash itself; Swift's own backtracer, started on a trap under ASan, trips
# ASan and then hangs holding the output pipe open (seen with an injected fatalError).
export SWIFT_BACKTRACE=enable=no
VOXTERM_FUZZ_TARGET="$target" .fuzz/fuzzer "$corpus" -max_total_time="$seconds" -rss_limit_mb=1024 -malloc_limit_mb=256 -timeout=10 \
  -max_len="$max_len" -artifact_prefix="$work/crashes/" -print_final_stats=1 "$@"
