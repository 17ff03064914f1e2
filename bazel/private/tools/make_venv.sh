#!/usr/bin/env bash
# make_venv.sh PYTHON VENV_DIR LOCK_FILE
# Creates VENV_DIR from a hashed lock file unless a complete one is already there.
# The venv path is named after the lock hash, so a complete venv never goes stale.
set -euo pipefail
python="$1"; venv="$2"; lock="$3"
[[ -f "$venv/.complete" ]] && exit 0
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
[[ -f "$venv/.complete" ]] && exit 0
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check \
    --no-deps --require-hashes --only-binary=:all: -r "$lock"
touch "$venv/.complete"
