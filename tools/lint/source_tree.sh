# Sourced by the lint tests: sets $root to the source tree this test was built from.
# The tests read the checked-out files themselves (data = ["//:WORKSPACE"] only points
# at them), so they are tagged "external": Bazel never serves a cached result.
root="$(dirname "$(readlink -f "$TEST_SRCDIR/$TEST_WORKSPACE/WORKSPACE")")"
if [[ ! -f "$root/WORKSPACE" || ! -d "$root/python" ]]; then
  echo "cannot find the source tree (WORKSPACE resolves to $root)" >&2
  exit 1
fi
