#!/usr/bin/env bash
# Regenerates third_party/python/requirements_lock.txt (pinned versions with sha256
# hashes) from requirements.in. Needs the PyPI registry; the build itself never does.
# The Python toolchain's virtualenv is keyed by the lock's hash, so the next build
# creates a fresh one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../third_party/python"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q pip-tools
"$tmp/venv/bin/pip-compile" -q --generate-hashes --strip-extras \
  --output-file=requirements_lock.txt requirements.in
echo "updated third_party/python/requirements_lock.txt"
