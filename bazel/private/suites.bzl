"""Test suites of tagged (manual) tests, which `//...` leaves out."""

def tagged_test_suite(name, tag):
    """`name`: every test defined above this call in the package whose tags include
    `tag` (e.g. the manual `exhaustive` grid points): `bazel test //pkg:name` runs them."""
    tests = sorted([":" + n for n, r in native.existing_rules().items()
                    if r["kind"].endswith("_test") and tag in r.get("tags", [])])
    native.test_suite(name = name, tags = ["manual"], tests = tests)
