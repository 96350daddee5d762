#!/usr/bin/env bash
# Installs what is missing, builds voxterm in release mode and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-deps.sh --test
swift build -c release
swift test -c release -Xswiftc -enable-testing "$@"
