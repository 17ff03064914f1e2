def pytest_addoption(parser):
    parser.addoption("--model_file", help="runfiles path of the QONNX export")
    parser.addoption("--board", default="zcu104", help="board to fold for")
    parser.addoption("--fps", help="fast,small target frames per second")
    parser.addoption("--inputs", help="random inputs per folding (default 100)")
    parser.addoption("--float_tail", action="store_true",
                     help="the export's last layer sums float32 products (scales that are not powers of two, "
                     "no output quantizer): compare to 1e-5 of the output's magnitude, same argmax")


def pytest_collection_modifyitems(config, items):
    """The depth-1 FIFO check runs at the fast folding only: whether a chain can deadlock
    does not depend on the folding, and each run of it is one more Verilator build."""
    keep = [i for i in items if not (i.originalname == "test_depth_1_fifos_still_complete_no_faster"
                                     and i.callspec.params.get("run") == "small")]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep
