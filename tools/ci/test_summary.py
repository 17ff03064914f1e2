"""Runs `bazel test ARGS...`, keeps Bazel's exit code, and ends with one line
`N passed, N failed[, N skipped]` counting test cases across all test targets.

Usage: test_summary.py BAZEL test [ARGS...]

Test cases come from each target's JUnit test.xml (one per pytest function, one per
testbench scenario). A target that failed without reporting a failing case (crash,
timeout, build failure) counts as one failed case, so the line never hides a failure.
Standard library only: it runs before the project's Python toolchain exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, other: "Counts") -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped

    def line(self) -> str:
        s = f"{self.passed} passed, {self.failed} failed"
        return s + (f", {self.skipped} skipped" if self.skipped else "")


def count_junit(path: str) -> Counts:
    """Counts <testcase> outcomes in a JUnit XML file."""
    c = Counts()
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            c.failed += 1
        elif case.find("skipped") is not None:
            c.skipped += 1
        else:
            c.passed += 1
    return c


def read_bep(path: str) -> list[dict]:
    events = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                events.append(json.loads(line))
    return events


def _file_path(uri: str) -> str:
    return urllib.request.url2pathname(urllib.parse.urlparse(uri).path)


def summarize(events: list[dict]) -> Counts:
    """Counts test cases from build events; see the module docstring for the rules."""
    # Last attempt of every (label, run, shard).
    results: dict[tuple, dict] = {}
    summaries: dict[str, str] = {}
    for ev in events:
        eid = ev.get("id", {})
        if "testResult" in eid:
            t = eid["testResult"]
            key = (t["label"], t.get("run", 1), t.get("shard", 1))
            prev = results.get(key)
            if prev is None or t.get("attempt", 1) >= prev["attempt"]:
                results[key] = {"attempt": t.get("attempt", 1), "event": ev.get("testResult", {})}
        elif "testSummary" in eid:
            summaries[eid["testSummary"]["label"]] = ev.get("testSummary", {}).get("overallStatus", "")
    total = Counts()
    seen = set()
    for (label, _, _), r in sorted(results.items()):
        seen.add(label)
        ev = r["event"]
        status = ev.get("status", "PASSED")
        xml = [o for o in ev.get("testActionOutput", []) if o.get("name") == "test.xml"]
        c = Counts()
        if xml and os.path.exists(_file_path(xml[0]["uri"])):
            try:
                c = count_junit(_file_path(xml[0]["uri"]))
            except ET.ParseError:
                c = Counts()
        if status != "PASSED" and c.failed == 0:
            c.failed += 1
        if status == "PASSED" and c.passed + c.failed + c.skipped == 0:
            c.passed = 1
        total.add(c)
    # Targets that never ran (failed to build, or the build stopped).
    for label, status in summaries.items():
        if label not in seen and status not in ("PASSED", "FLAKY"):
            total.failed += 1
    return total


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    bazel, args = argv[0], argv[1:]
    with tempfile.TemporaryDirectory(prefix="qnn2fpga-ci-") as tmp:
        bep = os.path.join(tmp, "bep.json")
        # Bazel syntax: the command, then options, then targets; --build_event_json_file
        # goes right after the command so it never lands behind `--`.
        cmd = [bazel, args[0], f"--build_event_json_file={bep}"] + args[1:]
        rc = subprocess.call(cmd)
        counts = summarize(read_bep(bep)) if os.path.exists(bep) else Counts()
    if rc not in (0, 3, 4) and counts.failed == 0:
        counts.failed += 1  # a build or infrastructure error is a failure of the run
    print(counts.line(), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
