#!/usr/bin/env bash
# fetch_npm.sh NPM DEST_DIR PACKAGE@VERSION INTEGRITY
# Fetches PACKAGE@VERSION with `npm pack`, checks the tarball against INTEGRITY
# (sha512-<base64>, npm's own form) and unpacks it into DEST_DIR/package, once.
set -euo pipefail
npm="$1"; dest="$2"; spec="$3"; integrity="$4"
[[ -f "$dest/.complete" ]] && exit 0
mkdir -p "$(dirname "$dest")"
exec 9>"$dest.lock"
flock 9
[[ -f "$dest/.complete" ]] && exit 0
rm -rf "$dest"
mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && "$npm" pack --silent "$spec" >/dev/null)
tarball=("$tmp"/*.tgz)
got="sha512-$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "${tarball[0]}")"
if [[ "$got" != "$integrity" ]]; then
  echo "fetch_npm.sh: $spec has integrity $got, expected $integrity" >&2
  exit 1
fi
tar -xzf "${tarball[0]}" -C "$dest"
chmod +x "$dest"/package/*
touch "$dest/.complete"
