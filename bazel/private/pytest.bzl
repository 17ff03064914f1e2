"""pytest_test: a py_test that runs pytest and writes JUnit XML where Bazel expects it."""

def pytest_test(name, srcs, deps = [], data = [], args = [], **kwargs):
    """Runs pytest on `srcs`; each test function is a JUnit test case in test.xml.

    Args:
      name: test name.
      srcs: test files (test_*.py or *_test.py) and helpers.
      deps: py_library deps.
      data: runtime data files.
      args: extra pytest arguments.
      **kwargs: passed to py_test (size, tags, timeout, ...).
    """
    native.py_test(
        name = name,
        srcs = srcs + ["//bazel/private/tools:pytest_main.py"],
        main = "//bazel/private/tools:pytest_main.py",
        deps = deps,
        data = data,
        args = args + ["$(location %s)" % s for s in srcs if s.endswith(".py") and not s.startswith(":") and (s.split("/")[-1].startswith("test_") or s.endswith("_test.py"))],
        python_version = "PY3",
        **kwargs
    )
