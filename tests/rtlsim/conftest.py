def pytest_addoption(parser):
    parser.addoption("--model_file", help="runfiles path of the QONNX export")
    parser.addoption("--board", default="zcu104", help="board to fold for")
    parser.addoption("--fps", help="fast,small target frames per second")
    parser.addoption("--float_tail", action="store_true",
                     help="the export's last layer sums float32 products (scales that are not powers of two, "
                     "no output quantizer): compare to 1e-5 of the output's magnitude, same argmax")
