def pytest_addoption(parser):
    parser.addoption("--model_file", help="runfiles path of the QONNX export")
    parser.addoption("--board", default="zcu104", help="board to fold for")
    parser.addoption("--fps", help="fast,small target frames per second")
