#!/usr/bin/env bash
# Installs what is missing, builds voxterm in release mode and opens it (default: the bundled sample).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/Scripts/install-deps.sh"
(cd "$root" && swift build -c release >&2)
export VOXTERM_SAMPLES="${VOXTERM_SAMPLES:-$root/Samples}"
exec "$root/.build/release/voxterm" "$@"
