#!/usr/bin/env bash
# buildifier's lint warnings on every BUILD, .bzl and WORKSPACE file of the source tree
# (not third_party/: vendored shims of other projects' rules). Formatting is not checked.
#
# Warnings left out, for this Bazel (4.2.3, from Debian, offline):
#   native-*              the rules have no rules_python/rules_shell/rules_cc to load from
#                         here; the native rules are the ones this Bazel provides
#   function-docstring*   macros are documented in prose, not in the Args:/Returns: layout
#   module-docstring      the generated models/*/hw_layers.bzl start with a comment
set -euo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tools/lint/source_tree.sh"
buildifier="$(readlink -f "$TEST_SRCDIR/buildifier/tool")"
"$buildifier" --version
disabled=(
  native-android native-cc-binary native-cc-common native-cc-import native-cc-info
  native-cc-library native-cc-objc native-cc-proto native-cc-shared-library
  native-cc-test native-cc-toolchain native-java-binary native-java-import
  native-java-library native-java-test native-proto native-py native-sh-binary
  native-sh-library native-sh-test
  function-docstring function-docstring-args function-docstring-header
  function-docstring-return module-docstring
)
warnings="$(IFS=,; echo "${disabled[*]/#/-}")"
cd "$root"
mapfile -t dirs < <(find . -mindepth 1 -maxdepth 1 -type d ! -name 'bazel-*' ! -name '.*' ! -name third_party -printf '%P\n' | sort)
if ! out="$("$buildifier" --lint=warn --mode=check --warnings="$warnings" -r BUILD.bazel WORKSPACE "${dirs[@]}" 2>&1)"; then
  # Lines naming a file that only needs reformatting are not failures.
  findings="$(grep -v ' # reformat$' <<<"$out" || true)"
  if [[ -n "$findings" ]]; then
    echo "$findings"
    echo "buildifier: lint warnings above (disable one where it is wrong with '# buildifier: disable=<warning>' and say why)"
    exit 1
  fi
fi
echo "buildifier: no lint warnings"
