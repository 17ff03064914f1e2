#!/usr/bin/env bash
# qonnx_export.sh VENV_PATH_FILE PYTHONPATH SCRIPT ARGS...
# Runs SCRIPT with the interpreter of the export virtualenv (@qnn_torch_python; its
# directory is the one line of VENV_PATH_FILE) in a pinned, single-threaded environment
# with a private HOME/cache, so that exports are deterministic and touch nothing outside
# the action. The script's output is shown only when it fails.
set -euo pipefail
venv="$(<"$1")"; pypath="$2"; script="$3"; shift 3
py="$venv/bin/python3"
if [[ ! -x "$py" || ! -f "$venv/.complete" ]]; then
  echo "qnn2fpga: the export virtualenv $venv is missing or incomplete; recreate it with" \
    "'bazel sync --only=qnn_torch_python'" >&2
  exit 1
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/qonnx_export.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/cache" "$tmp/tmp"
status=0
env -i \
  PATH="/usr/bin:/bin" \
  HOME="$tmp/home" XDG_CACHE_HOME="$tmp/cache" TORCH_HOME="$tmp/cache/torch" \
  TMPDIR="$tmp/tmp" LC_ALL=C.UTF-8 TZ=UTC \
  PYTHONPATH="$pypath" PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 PYTHONNOUSERSITE=1 \
  OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 CUDA_VISIBLE_DEVICES= \
  "$py" -B -s "$script" "$@" >"$tmp/log" 2>&1 || status=$?
if ((status != 0)); then
  cat "$tmp/log" >&2
  echo "qnn2fpga: $script failed (exit $status)" >&2
  exit "$status"
fi
