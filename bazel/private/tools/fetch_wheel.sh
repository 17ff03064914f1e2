#!/usr/bin/env bash
# fetch_wheel.sh DEST_DIR LOCK_FILE
# Downloads the wheels pinned (with hashes) in LOCK_FILE into DEST_DIR, once.
set -euo pipefail
dest="$1"; lock="$2"
[[ -f "$dest/.complete" ]] && exit 0
mkdir -p "$dest"
exec 9>"$dest.lock"
flock 9
[[ -f "$dest/.complete" ]] && exit 0
python3 -m pip download --quiet --disable-pip-version-check \
    --no-deps --require-hashes --only-binary=:all: -d "$dest" -r "$lock"
touch "$dest/.complete"
