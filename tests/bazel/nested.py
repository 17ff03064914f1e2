"""Bazel run on copies of this workspace, each with its own output root, for the build
system's tests and benchmarks: Workspace (copy, build, execution log, output hashes)
and CacheServer (a loopback HTTP remote cache)."""

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


class BazelFailed(Exception):
    pass


def source_root() -> pathlib.Path:
    """The workspace this program was built from: `bazel run` names it; in a test,
    runfiles are symlinks into it (tag the test local)."""
    if "BUILD_WORKSPACE_DIRECTORY" in os.environ:
        return pathlib.Path(os.environ["BUILD_WORKSPACE_DIRECTORY"])
    marker = pathlib.Path(os.environ["TEST_SRCDIR"]) / os.environ["TEST_WORKSPACE"] / "WORKSPACE"
    return marker.resolve().parent


def nested_env(path: str | None = None) -> dict:
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
        src = source_root()
        shutil.copytree(src, self.dir, symlinks=True,
                        ignore=shutil.ignore_patterns("bazel-*", ".git", "__pycache__"))

    def bazel(self, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        cmd = ["bazel", f"--output_user_root={self.root}", "--max_idle_secs=20", *args]
        p = subprocess.run(cmd, cwd=self.dir, env=env or nested_env(), capture_output=True, text=True)
        if check and p.returncode != 0:
            raise BazelFailed(f"{' '.join(args)} failed ({p.returncode}):\n{p.stderr[-4000:]}")
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
            if path.is_symlink() or not path.is_file() or not_reproducible(rel):
                continue
            hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        return hashes


def not_reproducible(rel: str) -> bool:
    # Yosys logs hold timings (kept out of default outputs on purpose); runfiles
    # manifests hold the absolute execroot path by Bazel's design.
    return rel.endswith(".log") or ".runfiles" in rel or rel.endswith("MANIFEST")


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


