"""extract_ap_types.py WHEEL_DIR PREFIX OUT_DIR

Copies the Apache-2.0 licensed headers under PREFIX from the one wheel in WHEEL_DIR into
OUT_DIR. Headers under any other notice (e.g. hls_stream.h) are left out on purpose.
"""

import glob
import os
import sys
import zipfile

APACHE = "Licensed under the Apache License, Version 2.0"


def main(wheel_dir: str, prefix: str, out_dir: str) -> int:
    wheels = sorted(glob.glob(os.path.join(wheel_dir, "*.whl")))
    if len(wheels) != 1:
        print(f"qnn2fpga: expected one wheel in {wheel_dir}, found {len(wheels)}", file=sys.stderr)
        return 1
    count = 0
    with zipfile.ZipFile(wheels[0]) as zf:
        for name in sorted(zf.namelist()):
            if not name.startswith(prefix) or not name.endswith(".h"):
                continue
            text = zf.read(name).decode("utf-8", errors="replace")
            if APACHE not in "\n".join(text.splitlines()[:40]):
                continue
            dest = os.path.join(out_dir, name[len(prefix):])
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "w", encoding="utf-8") as f:
                f.write(text)
            count += 1
    if count == 0:
        print(f"qnn2fpga: no Apache-2.0 headers under {prefix} in {wheels[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
