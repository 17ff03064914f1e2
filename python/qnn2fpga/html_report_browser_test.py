"""The HTML build report renders in a real browser: headless Chromium takes a screenshot
of a 4-layer report, and the decoded pixels must show a page with charts, including the
bottleneck bar's highlight colour."""

from __future__ import annotations

import os
import pathlib
import struct
import subprocess
import zlib

import numpy as np

from qnn2fpga import html_report

CHROMIUM = pathlib.Path("/usr/bin/chromium")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def four_layers() -> dict:
    def res(lut, ff, bram, dsp):
        return {"LUT": lut, "FF": ff, "BRAM_18K": bram, "URAM": 0, "DSP": dsp}

    layers = [
        {"name": "Thresholding_0", "op": "Thresholding", "cycles": 784, "folding": {"PE": 1},
         "resources": res(120, 90, 0, 0)},
        {"name": "MVAU_0", "op": "MVAU", "cycles": 3136, "folding": {"PE": 16, "SIMD": 49},
         "resources": res(9000, 7000, 16, 0)},
        {"name": "MVAU_1", "op": "MVAU", "cycles": 1024, "folding": {"PE": 8, "SIMD": 32},
         "resources": res(4000, 3500, 8, 0)},
        {"name": "LabelSelect_0", "op": "LabelSelect", "cycles": 10, "folding": {"PE": 1},
         "resources": res(80, 60, 0, 0)},
    ]
    return {
        "model": "tfc_w1a1",
        "board": {"name": "Pynq-Z1", "part": "xc7z020clg400-1",
                  "capacity": {"LUT": 53200, "FF": 106400, "BRAM_18K": 280, "URAM": 0, "DSP": 220}},
        "fclk_mhz": 100.0,
        "layers": layers,
        "total": {r: sum(layer["resources"][r] for layer in layers) for r in ("LUT", "FF", "BRAM_18K", "URAM", "DSP")},
        "performance": {"max_cycles": 3136, "max_cycles_node_name": "MVAU_0", "critical_path_cycles": 4954,
                        "estimated_throughput_fps": 31887.76, "estimated_latency_ns": 49540.0, "fclk_mhz": 100.0},
        "target_fps": 25000,
    }


def screenshot(html: pathlib.Path, tmp: pathlib.Path) -> pathlib.Path:
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing; install it with 'apt-get install -y --no-install-recommends chromium' "
        "(./bazelw does this)")
    shot, profile, home = tmp / "shot.png", tmp / "profile", tmp / "home"
    home.mkdir()
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--screenshot={shot}",
           "--window-size=1200,900", html.as_uri()]
    # Chromium writes its config and caches under HOME; the test's HOME may not be writable.
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home)}
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0 and shot.exists(), (
        f"chromium failed (exit {run.returncode}, screenshot written: {shot.exists()}):\n{run.stderr[-3000:]}")
    return shot


def _unfilter_sequential(kind: int, line: list[int], prev: list[int], bpp: int) -> list[int]:
    """PNG filters 3 (Average) and 4 (Paeth), which depend on the byte just decoded."""
    cur = [0] * len(line)
    for i, x in enumerate(line):
        a = cur[i - bpp] if i >= bpp else 0
        b = prev[i]
        if kind == 3:
            pred = (a + b) // 2
        else:
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
        cur[i] = (x + pred) & 0xFF
    return cur


def decode_png(data: bytes) -> np.ndarray:
    """An 8-bit RGB or RGBA PNG (what Chromium writes) as a (height, width, channels) array."""
    assert data[:8] == PNG_SIGNATURE
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length  # length, type, body, CRC
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    rows = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.uint8)
    for y in range(height):
        kind, line = int(rows[y, 0]), rows[y, 1:]
        if kind == 0:
            cur = line.copy()
        elif kind == 1:  # Sub: a running sum along the row, per channel (uint8 wraps mod 256)
            cur = np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.uint8).reshape(stride)
        elif kind == 2:  # Up
            cur = line + prev
        elif kind in (3, 4):
            cur = np.array(_unfilter_sequential(kind, line.tolist(), prev.tolist(), bpp), np.uint8)
        else:
            raise AssertionError(f"row {y}: unknown PNG filter {kind}")
        out[y] = prev = cur
    return out.reshape(height, width, bpp)


def test_report_renders_in_chromium(tmp_path):
    html = html_report.write(four_layers(), tmp_path)
    data = screenshot(html, tmp_path).read_bytes()
    assert data[:8] == PNG_SIGNATURE, "screenshot is not a PNG"
    assert len(data) > 10_000, f"screenshot is only {len(data)} bytes"
    pixels = decode_png(data)
    assert pixels.shape[:2] == (900, 1200)
    rgb = pixels[..., :3].astype(np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    colours, counts = np.unique(packed, return_counts=True)
    assert len(colours) >= 3, f"only {len(colours)} distinct colours: a blank page?"
    highlight = int(html_report.COLOURS["bottleneck"].lstrip("#"), 16)
    bar_area = html_report.BAR_MAX * html_report.BAR_H
    seen = dict(zip(colours.tolist(), counts.tolist())).get(highlight, 0)
    # The bottleneck bar (full length) plus the legend swatch, allowing for anti-aliased edges.
    assert seen >= bar_area // 2, f"bottleneck colour {highlight:06x} covers {seen} pixels, want >= {bar_area // 2}"
