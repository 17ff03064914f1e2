#!/usr/bin/env bash
# A generated file that is checked in (a package's hw_layers.bzl, the layer grid's Yosys
# counts), and its upkeep:
#   checked_in.sh update GENERATED PACKAGE/FILE   (bazel run): copy into the workspace
#   checked_in.sh check GENERATED CHECKED_IN UPDATE_TARGET   (bazel test): fail when stale
set -euo pipefail
case "${1:-}" in
  update)
    if [[ -z "${BUILD_WORKSPACE_DIRECTORY:-}" ]]; then
      echo "qnn2fpga: run this with 'bazel run', which names the workspace to update" >&2
      exit 2
    fi
    cp "$2" "$BUILD_WORKSPACE_DIRECTORY/$3.tmp"
    chmod 0644 "$BUILD_WORKSPACE_DIRECTORY/$3.tmp"  # outputs are read-only, some executable
    mv "$BUILD_WORKSPACE_DIRECTORY/$3.tmp" "$BUILD_WORKSPACE_DIRECTORY/$3"
    echo "wrote $3"
    ;;
  check)
    if ! diff -u "$3" "$2"; then
      echo "qnn2fpga: $3 is stale (the build now generates the lines marked + above); run 'bazel run $4'" >&2
      exit 1
    fi
    echo "$3 is up to date"
    ;;
  *)
    echo "qnn2fpga: usage: checked_in.sh update|check ..." >&2
    exit 2
    ;;
esac
