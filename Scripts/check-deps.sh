#!/usr/bin/env bash
# Checks the dependency direction of docs/architecture.md from the import lines in Sources/:
# exits 1 naming every import that points the wrong way.
set -euo pipefail
cd "$(dirname "$0")/.."
model="VolumeCore NIfTI ImageIO Registration Segmentation Pipelines VoxtermModel"
ui="SliceRendering Terminal Workbench ArgumentParser VoxtermCLI voxterm"
status=0
imports() { # module -> "file: imported-module" lines
  grep -rHE '^(@_exported |@testable |internal |public |private )*import [A-Za-z_]+' "Sources/$1" --include='*.swift' 2>/dev/null \
    | sed -E 's/^([^:]+):.*import ([A-Za-z_]+).*/\1 \2/' || true
}
forbid() { # module, space-separated forbidden imports, reason
  local m=$1 bad=$2 why=$3
  while read -r file imp; do
    [ -z "${file:-}" ] && continue
    for b in $bad; do
      if [ "$imp" = "$b" ]; then echo "check-deps: $file imports $imp ($why)" >&2; status=1; fi
    done
  done < <(imports "$m")
}
for m in $model; do forbid "$m" "$ui" "the model core imports no UI or CLI module"; done
forbid VolumeCore "NIfTI ImageIO Registration Segmentation Pipelines VoxtermModel" "VolumeCore depends on nothing"
forbid NIfTI "ImageIO Registration Segmentation Pipelines VoxtermModel" "NIfTI depends on VolumeCore only"
forbid ImageIO "Registration Segmentation Pipelines VoxtermModel" "ImageIO depends on VolumeCore and NIfTI only"
forbid Registration "NIfTI ImageIO Segmentation Pipelines VoxtermModel" "Registration depends on VolumeCore only"
forbid Segmentation "NIfTI ImageIO Pipelines VoxtermModel" "Segmentation reads no file format; that is Pipelines"
forbid Pipelines "VoxtermModel" "Pipelines sits below the umbrella"
forbid SliceRendering "NIfTI ImageIO Registration Segmentation Pipelines VoxtermModel Terminal Workbench" "SliceRendering depends on VolumeCore only"
forbid Terminal "$model SliceRendering Workbench" "Terminal knows no model"
forbid Workbench "VoxtermCLI voxterm ArgumentParser" "the workbench does not know the CLI"
# The umbrella only re-exports.
if grep -rnvE '^\s*(//.*)?$|^@_exported import' Sources/VoxtermModel --include='*.swift' >&2; then
  echo "check-deps: Sources/VoxtermModel must only re-export (lines above)" >&2; status=1
fi
[ $status -eq 0 ] && echo "check-deps: dependency direction ok" >&2
exit $status
