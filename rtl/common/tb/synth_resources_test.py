"""Checks resource counts in yosys_synth reports, so that a synthesis claim (e.g. "this
memory maps to URAM") fails a test when it stops holding.

Usage: synth_resources_test.py REPORT:CHECK[,CHECK...] ...
  REPORT  a yosys_synth JSON report ({"resources": {category: count}, ...})
  CHECK   CATEGORY>=N, CATEGORY==N or CATEGORY<=N; CATEGORY is a report category (LUT,
          FF, LUTRAM, SRL, BRAM18, BRAM36, URAM, DSP, CARRY, MUXF) or BRAM (BRAM18 + BRAM36)
Prints every report's counts and every check; exits 1 if any check fails.
"""

import json
import operator
import re
import sys

_OPS = {">=": operator.ge, "==": operator.eq, "<=": operator.le}
_CHECK = re.compile(r"^([A-Z0-9]+)(>=|==|<=)(\d+)$")


def count(resources: dict, category: str) -> int:
    if category == "BRAM":
        return resources["BRAM18"] + resources["BRAM36"]
    if category not in resources:
        raise SystemExit(f"synth_resources_test: unknown category {category!r}")
    return resources[category]


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    failures = 0
    for arg in argv:
        path, _, checks = arg.rpartition(":")
        with open(path) as f:
            report = json.load(f)
        res = report["resources"]
        print(f"{path} ({report['top']}, {report['family']}): "
              + ", ".join(f"{k}={v}" for k, v in res.items() if v))
        for check in checks.split(","):
            m = _CHECK.match(check)
            if not m:
                raise SystemExit(f"synth_resources_test: bad check {check!r}")
            n = count(res, m.group(1))
            ok = _OPS[m.group(2)](n, int(m.group(3)))
            print(f"  {'PASS' if ok else 'FAIL'} {check} ({m.group(1)} = {n})")
            failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
