#!/usr/bin/env bash
# mutate.sh SRC OUT FIND REPLACE: copy SRC to OUT with the first FIND replaced by REPLACE.
set -euo pipefail
src="$1"; out="$2"; find="$3"; replace="$4"
text="$(cat "$src"; printf x)"; text="${text%x}"
if [[ "$text" != *"$find"* ]]; then
  echo "qnn2fpga: mutation target '$find' not found in $src" >&2
  exit 1
fi
printf '%s' "${text/"$find"/"$replace"}" >"$out"
