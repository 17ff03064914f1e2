#!/usr/bin/env bash
# verilate.sh VERILATOR MODEL_CPP HDRS_DIR -- VERILATOR_ARGS...
# Runs Verilator into a scratch dir and keeps only the generated C++: all .cpp files as
# one translation unit MODEL_CPP (what Verilator's own make flow compiles by default),
# the .h files in HDRS_DIR. Make files and dependency lists (not reproducible) are dropped.
set -euo pipefail
tool="$1"; model_cpp="$2"; hdrs="$3"; shift 4
if [[ -z "$tool" || ! -x "$tool" ]]; then
  echo "qnn2fpga: verilator is not installed; install it with 'apt-get install -y verilator' (./bazelw does this)" >&2
  exit 127
fi
mdir="$(mktemp -d "${TMPDIR:-/tmp}/verilate.XXXXXX")"
trap 'rm -rf "$mdir"' EXIT
"$tool" --cc --Mdir "$mdir" "$@" >"$mdir/verilator.log" 2>&1 || { cat "$mdir/verilator.log" >&2; exit 1; }
mkdir -p "$hdrs"
cp "$mdir"/*.h "$hdrs"/
LC_ALL=C
for f in "$mdir"/*.cpp; do
  printf '// ---- %s\n' "$(basename "$f")"
  cat "$f"
done >"$model_cpp"

