"""Options of the model equivalence tests: which export to check, and how."""

import os


def pytest_addoption(parser):
    parser.addoption("--model_file", action="append", default=[], help="QONNX export(s) to compile and check")
    parser.addoption("--random_inputs", type=int, default=4, help="random inputs per model")
    parser.addoption("--real_inputs", type=int, default=8, help="real-looking inputs per model")


def pytest_generate_tests(metafunc):
    if "model_file" in metafunc.fixturenames:
        root = os.path.join(os.environ.get("TEST_SRCDIR", ""), os.environ.get("TEST_WORKSPACE", ""))
        files = [os.path.join(root, f) for f in metafunc.config.getoption("model_file")]
        metafunc.parametrize("model_file", files, ids=[f.rsplit("/", 1)[-1] for f in files])
