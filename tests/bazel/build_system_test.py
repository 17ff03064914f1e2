"""End-to-end checks of the build itself: each test runs Bazel in fresh copies of this
workspace (own output roots), so caching, remote-cache and reproducibility claims are
measured, not assumed. Slow (several cold builds): tagged `slow`, run by CI.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import pathlib
import pwd
import shutil
import subprocess
import sys
import threading

import pytest

# Targets whose actions are all EDA work: Verilator, Yosys, g++ (models, testbenches, HLS csim).
EDA_TARGETS = ["//rtl/...", "//hls/..."]
SMALL_TARGETS = ["//rtl/common:skid_w32_synth_xc7", "//rtl/common:skid_w32_test"]
EDA_MNEMONICS = {"Verilate", "YosysSynth", "CppCompile", "CppLink"}


def _source_root() -> pathlib.Path:
    """The workspace this test was built from (runfiles are symlinks into it: tag local)."""
    marker = pathlib.Path(os.environ["TEST_SRCDIR"]) / os.environ["TEST_WORKSPACE"] / "WORKSPACE"
    return marker.resolve().parent


def _nested_env(path: str | None = None) -> dict:
    """A clean client environment: the real HOME (the venv cache lives there) and a PATH
    whose python3 is the one that made this test's venv, so the venv is reused."""
    home = pwd.getpwuid(os.getuid()).pw_dir
    base_python = os.path.dirname(os.path.realpath(sys.executable))
    env = {
        "HOME": home,
        "PATH": path or f"{base_python}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "USER": pwd.getpwuid(os.getuid()).pw_name,
    }
    if "QNN2FPGA_CACHE" in os.environ:
        env["QNN2FPGA_CACHE"] = os.environ["QNN2FPGA_CACHE"]
    return env


class Workspace:
    """A copy of the source tree with its own Bazel output root."""

    def __init__(self, tmp: pathlib.Path, name: str):
        self.dir = tmp / name / "ws"
        self.root = tmp / name / "bazel_root"
        src = _source_root()
        shutil.copytree(src, self.dir, symlinks=True,
                        ignore=shutil.ignore_patterns("bazel-*", ".git", "__pycache__"))

    def bazel(self, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        cmd = ["bazel", f"--output_user_root={self.root}", "--max_idle_secs=20", *args]
        p = subprocess.run(cmd, cwd=self.dir, env=env or _nested_env(), capture_output=True, text=True)
        if check and p.returncode != 0:
            pytest.fail(f"{' '.join(args)} failed ({p.returncode}):\n{p.stderr[-4000:]}")
        return p

    def build_spawns(self, *args: str) -> list[dict]:
        """Builds and returns the spawns Bazel ran or took from a cache (execution log)."""
        log = self.dir.parent / "exec.json"
        self.bazel("build", f"--execution_log_json_file={log}", *args)
        text = log.read_text()
        dec, i, out = json.JSONDecoder(), 0, []
        while True:
            while i < len(text) and text[i].isspace():
                i += 1
            if i >= len(text):
                return out
            obj, i = dec.raw_decode(text, i)
            out.append(obj)

    def output_hashes(self) -> dict[str, str]:
        """sha256 of every reproducible output file under bazel-bin."""
        bin_dir = (self.dir / "bazel-bin").resolve()
        hashes = {}
        for path in sorted(bin_dir.rglob("*")):
            rel = path.relative_to(bin_dir).as_posix()
            if path.is_symlink() or not path.is_file() or _not_reproducible(rel):
                continue
            hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        return hashes


def _not_reproducible(rel: str) -> bool:
    # Yosys logs hold timings (kept out of default outputs on purpose); runfiles
    # manifests hold the absolute execroot path by Bazel's design.
    return rel.endswith(".log") or ".runfiles" in rel or rel.endswith("MANIFEST")


def _misses(spawns: list[dict]) -> list[str]:
    return [f"{s['mnemonic']}: {s.get('progressMessage', '')}" for s in spawns if not s.get("remoteCacheHit")]


class CacheServer:
    """Loopback HTTP remote cache (GET/HEAD/PUT under /ac/ and /cas/), optionally read-only."""

    def __init__(self, root: pathlib.Path, writable: bool = True):
        self.root, self.writable = root, writable
        self.gets = self.hits = self.puts = self.refused = 0
        root.mkdir(parents=True, exist_ok=True)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _path(self):
                parts = self.path.strip("/").split("/")
                if len(parts) != 2 or parts[0] not in ("ac", "cas") or not parts[1].isalnum():
                    return None
                return server.root / f"{parts[0]}_{parts[1]}"

            def _reply(self, code, body=b""):
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self):
                p = self._path()
                server.gets += 1
                if p is not None and p.exists():
                    server.hits += 1
                    self._reply(200, p.read_bytes())
                else:
                    self._reply(404)

            do_HEAD = do_GET

            def do_PUT(self):
                body = self._read_body()
                p = self._path()
                if not server.writable or p is None:
                    server.refused += 1
                    self._reply(403)
                    return
                p.write_bytes(body)
                server.puts += 1
                self._reply(200)

            def _read_body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_noop_rebuild_and_disk_cache_after_clean(tmp_path):
    ws = Workspace(tmp_path, "disk")
    disk = f"--disk_cache={tmp_path / 'disk_cache'}"
    first = ws.build_spawns(disk, *EDA_TARGETS)
    assert EDA_MNEMONICS <= {s["mnemonic"] for s in first}
    # A second build executes nothing.
    assert ws.build_spawns(disk, *EDA_TARGETS) == []
    # After `bazel clean`, every action comes from the disk cache.
    ws.bazel("clean")
    again = ws.build_spawns(disk, *EDA_TARGETS)
    assert len(again) == len(first)
    assert _misses(again) == []


def test_remote_cache_hits_after_expunge_and_readonly_cache(tmp_path):
    with CacheServer(tmp_path / "cache") as cache:
        ws = Workspace(tmp_path, "remote")
        flags = ["--config=ci", f"--remote_cache={cache.url}", "--disk_cache="]
        first = ws.build_spawns(*flags, *EDA_TARGETS)
        assert cache.puts > 0
        ws.bazel("clean", "--expunge")
        again = ws.build_spawns(*flags, *EDA_TARGETS)
        non_python = [s for s in again if not s["mnemonic"].startswith("Py")]
        assert len(non_python) == len([s for s in first if not s["mnemonic"].startswith("Py")])
        assert EDA_MNEMONICS <= {s["mnemonic"] for s in non_python}
        assert _misses(non_python) == []

    # A cache that refuses writes only warns: the build still succeeds.
    with CacheServer(tmp_path / "readonly", writable=False) as ro:
        ws2 = Workspace(tmp_path, "readonly")
        p = ws2.bazel("build", "--config=ci", f"--remote_cache={ro.url}", "--disk_cache=", *SMALL_TARGETS)
        assert p.returncode == 0
        assert ro.refused > 0


def test_release_builds_are_byte_identical(tmp_path):
    """Two clean --config=release builds, from checkouts at different paths."""
    hashes = []
    for name in ("release_a", "release_b_other_path"):
        ws = Workspace(tmp_path, name)
        ws.bazel("build", "--config=release", "--disk_cache=", *EDA_TARGETS)
        hashes.append(ws.output_hashes())
    a, b = hashes
    assert len(a) > 50 and any(k.endswith("_synth_xc7.json") for k in a)
    assert sorted(a) == sorted(b)
    differing = sorted(k for k in a if a[k] != b[k])
    assert differing == []


def test_missing_tool_is_one_clear_line(tmp_path):
    """With yosys absent from PATH, a synthesis target fails with one line naming the
    tool and the install command, and no Starlark or Python traceback."""
    fake_bin = tmp_path / "bin_without_yosys"
    fake_bin.mkdir()
    for d in ("/usr/local/bin", "/usr/bin"):
        for entry in sorted(os.listdir(d)):
            if not entry.startswith("yosys") and not (fake_bin / entry).exists():
                (fake_bin / entry).symlink_to(os.path.join(d, entry))
    base_python = os.path.dirname(os.path.realpath(sys.executable))
    env = _nested_env(path=f"{base_python}:{fake_bin}")
    ws = Workspace(tmp_path, "missing")
    p = ws.bazel("build", "--disk_cache=", "//rtl/common:skid_w32_synth_xc7", env=env, check=False)
    assert p.returncode != 0
    wanted = "qnn2fpga: yosys is not installed; install it with 'apt-get install -y yosys' (./bazelw does this)"
    assert wanted in p.stderr.splitlines()
    assert "Traceback" not in p.stderr
