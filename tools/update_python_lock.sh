#!/usr/bin/env bash
# Regenerates the pinned, hashed Python lock files in third_party/python from their .in
# files. Needs the PyPI registry (and the local torch CPU wheel that pip's find-links
# points at); the build itself never does. Each virtualenv is keyed by its lock's hash,
# so the next build creates a fresh one. Index URLs and find-links (machine-specific pip
# configuration) are kept out of the locks.
#   requirements.in        -> requirements_lock.txt         (@qnn_python, the toolchain)
#   export_requirements.in -> export_requirements_lock.txt  (@qnn_torch_python, model export)
#   lint_requirements.in   -> lint_requirements_lock.txt    (@qnn_lint_python, //tools/lint)
# The export lock is constrained by the light lock (-c), so the packages both share
# (numpy, onnx, qonnx, protobuf, ...) have the same versions: regenerate both together.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../third_party/python"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q pip-tools
"$tmp/venv/bin/pip-compile" -q --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
  --output-file=requirements_lock.txt requirements.in
echo "updated third_party/python/requirements_lock.txt"
"$tmp/venv/bin/pip-compile" -q --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
  --output-file=lint_requirements_lock.txt lint_requirements.in
echo "updated third_party/python/lint_requirements_lock.txt"
# --allow-unsafe: brevitas and torch need setuptools (brevitas: <81), so it is pinned too.
"$tmp/venv/bin/pip-compile" -q --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links --allow-unsafe \
  --output-file=export_requirements_lock.txt export_requirements.in
if grep -qiE '^(nvidia-|triton==)' export_requirements_lock.txt; then
  echo "export_requirements_lock.txt pulls CUDA packages: the local torch CPU wheel was not used" >&2
  exit 1
fi
grep -q '^torch==.*+cpu ' export_requirements_lock.txt || {
  echo "export_requirements_lock.txt does not pin the torch +cpu wheel" >&2
  exit 1
}
echo "updated third_party/python/export_requirements_lock.txt"
