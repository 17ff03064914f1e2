"""Tests of the CI summary: test cases counted from JUnit XML and build events."""

import pathlib

import pytest

import test_summary as ts


def _xml(tmp_path: pathlib.Path, name: str, cases: list[str]) -> str:
    body = "".join(
        f'<testcase name="c{i}">{"" if c == "pass" else f"<{c}/>"}</testcase>' for i, c in enumerate(cases)
    )
    p = tmp_path / name
    p.write_text(f"<testsuites><testsuite>{body}</testsuite></testsuites>")
    return p.as_uri()


def _result(label: str, status: str, xml_uri: str | None, attempt: int = 1) -> dict:
    outs = [{"name": "test.xml", "uri": xml_uri}] if xml_uri else []
    return {
        "id": {"testResult": {"label": label, "run": 1, "shard": 1, "attempt": attempt}},
        "testResult": {"status": status, "testActionOutput": outs},
    }


def _summary(label: str, status: str) -> dict:
    return {"id": {"testSummary": {"label": label}}, "testSummary": {"overallStatus": status}}


def test_counts_cases_from_junit(tmp_path):
    uri = _xml(tmp_path, "a.xml", ["pass", "pass", "failure", "skipped", "error"])
    c = ts.summarize([_result("//a:t", "FAILED", uri), _summary("//a:t", "FAILED")])
    assert (c.passed, c.failed, c.skipped) == (2, 2, 1)
    assert c.line() == "2 passed, 2 failed, 1 skipped"


def test_failed_target_without_failing_case_counts_once(tmp_path):
    # e.g. a crash or timeout after the XML said everything passed
    uri = _xml(tmp_path, "b.xml", ["pass"])
    c = ts.summarize([_result("//b:t", "TIMEOUT", uri)])
    assert (c.passed, c.failed) == (1, 1)


def test_target_that_did_not_build_is_a_failure():
    c = ts.summarize([_summary("//c:t", "FAILED_TO_BUILD")])
    assert c.line() == "0 passed, 1 failed"


def test_last_attempt_wins(tmp_path):
    bad = _xml(tmp_path, "bad.xml", ["failure"])
    good = _xml(tmp_path, "good.xml", ["pass", "pass"])
    c = ts.summarize([_result("//d:t", "FAILED", bad, 1), _result("//d:t", "PASSED", good, 2)])
    assert c.line() == "2 passed, 0 failed"


def test_passed_target_without_xml_counts_one_case():
    c = ts.summarize([_result("//e:t", "PASSED", None), _summary("//e:t", "PASSED")])
    assert c.line() == "1 passed, 0 failed"


def test_main_keeps_bazel_exit_code(tmp_path, capsys):
    fake = tmp_path / "bazel"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    assert ts.main([str(fake), "test", "//..."]) == 3
    # exit 3 means tests failed: the failures come from the events (none here)
    assert capsys.readouterr().out.strip().splitlines()[-1] == "0 passed, 0 failed"


def test_main_build_error_is_counted(tmp_path, capsys):
    fake = tmp_path / "bazel"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    assert ts.main([str(fake), "test", "//..."]) == 1
    assert capsys.readouterr().out.strip().splitlines()[-1] == "0 passed, 1 failed"


@pytest.mark.parametrize("bad", ["<testsuites><testsuite>", "not xml"])
def test_unreadable_xml_of_failed_target_still_fails(tmp_path, bad):
    p = tmp_path / "x.xml"
    p.write_text(bad)
    c = ts.summarize([_result("//f:t", "FAILED", p.as_uri())])
    assert c.failed == 1
