#!/usr/bin/env bash
# ruff check over every Python file of the source tree, with the root ruff.toml;
# the findings are the failure message.
set -euo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tools/lint/source_tree.sh"
venv="$(cat "$TEST_SRCDIR/qnn_lint_python/venv_path.txt")"
cd "$root"
"$venv/bin/ruff" --version
# --no-cache: no .ruff_cache in the source tree.
exec "$venv/bin/ruff" check --no-cache --output-format=full .
