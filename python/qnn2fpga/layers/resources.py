"""What a layer's hardware is made of, for resource estimates: its memories and the
size features its LUT/FF models are linear in.

A layer declares `memories()` (depth x width words, style, ROM or RAM) and
`resource_features()` (named sizes such as lane or comparator bits). `map_memory` turns
a memory into primitives the way the open flow does (Yosys 0.23 for xc7/xcup, honouring
ram_style), so block RAM, UltraRAM and DSP counts are structural, not fitted, and so are
the LUTs of memories kept in LUTs (`mem_lut`): qnn2fpga/estimate.py adds them to the
calibrated per-family logic model (python/qnn2fpga/estimates/resource_models.json).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

STYLES = ("auto", "block", "distributed", "ultra")

# (depth, width) aspect ratios of one 18 Kb block RAM (simple dual port up to 36 bits).
BRAM18_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
URAM_SHAPE = (4096, 72)
# Yosys memory_libmap costs (share/yosys/xilinx/*.txt): a BRAM18 costs 129, a LUTRAM
# primitive 8, a bit of a table in logic 1/64 (synth_xilinx's -logic-cost-rom for 7-series
# and UltraScale); "auto" memories take the cheapest.
BRAM18_COST, LUTRAM_COST, ROM_LOGIC_BIT_COST = 129, 8, 1 / 64


@dataclass(frozen=True)
class Memory:
    """`depth` words of `width` bits. `style`: a ram_style (auto/block/distributed/ultra);
    `rom`: no write port (contents from an init file)."""

    depth: int
    width: int
    style: str = "auto"
    rom: bool = True

    @property
    def bits(self) -> int:
        return self.depth * self.width


def bram18_count(depth: int, width: int) -> int:
    """18 Kb block RAMs for depth x width: the best aspect ratio (a 36 Kb block counts 2)."""
    if depth <= 0 or width <= 0:
        return 0
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in BRAM18_SHAPES)


def uram_count(depth: int, width: int) -> int:
    if depth <= 0 or width <= 0:
        return 0
    return math.ceil(depth / URAM_SHAPE[0]) * math.ceil(width / URAM_SHAPE[1])


def lutram_luts(depth: int, width: int) -> int:
    """LUTs of a distributed RAM with one read port: 32-deep slices hold 6 bits per 4
    LUTs (RAM32M), 64-deep slices 3 bits per 4 LUTs (RAM64M); deeper memories stack
    64-deep slices behind a read multiplexer (about one LUT per bit per 4 slices)."""
    if depth <= 0 or width <= 0:
        return 0
    if depth <= 32:
        return 4 * math.ceil(width / 6)
    slices = math.ceil(depth / 64)
    mux = width * (slices - 1) // 4 if slices > 1 else 0
    return slices * 4 * math.ceil(width / 3) + mux


def rom_logic_luts(depth: int, width: int) -> int:
    """LUTs of a constant table kept in logic: one LUT per output bit per 64 words (Yosys
    packs no two outputs into one LUT); deeper tables add MUXF7/F8 stages (free) up to 256
    words, then about one LUT per bit per 4 slices."""
    if depth <= 2 or width <= 0:
        return 0  # every bit is a constant or the address bit (or its inverse)
    slices = math.ceil(depth / 64)
    mux = width * (slices - 1) // 4 if slices > 4 else 0
    return width * slices + mux


def counter_bits(n: int) -> int:
    """Bits of a counter over 0 .. n-1 (at least one), as the RTL sizes them."""
    return max(1, (n - 1).bit_length())


def in_luts(mem: Memory) -> bool:
    """Whether `mem` goes to LUTs (distributed RAM or logic). The same on every family:
    only "ultra" depends on the family, and it never goes to LUTs."""
    return map_memory(mem, "7series")["LUT"] > 0


def map_memory(mem: Memory, family: str) -> dict:
    """{"BRAM_18K", "URAM", "LUT"} for one memory. "auto" follows Yosys: a RAM goes to
    the cheaper of block RAM and LUTRAM by libmap cost, a ROM stays in logic unless it is
    deep (see below)."""
    out = {"BRAM_18K": 0, "URAM": 0, "LUT": 0}
    if mem.depth <= 0 or mem.width <= 0:
        return out
    style = mem.style
    if style == "ultra" and family != "ultrascale_plus":
        style = "block"  # no UltraRAM on the device: the flow falls back to block RAM
    if style == "auto":
        if mem.rom:
            # A table goes to block RAM only when that is cheaper than logic in libmap's
            # terms: a 224 x 224-bit table (7 BRAM18, cost 903) stays in logic (cost 784).
            # At 128 words or fewer logic is always cheaper.
            cheaper = BRAM18_COST * bram18_count(mem.depth, mem.width) < mem.bits * ROM_LOGIC_BIT_COST
            style = "block" if cheaper else "logic"
        else:
            lutram_cost = LUTRAM_COST * lutram_luts(mem.depth, mem.width) / 4
            style = "block" if BRAM18_COST * bram18_count(mem.depth, mem.width) < lutram_cost else "distributed"
    if style == "block":
        out["BRAM_18K"] = bram18_count(mem.depth, mem.width)
    elif style == "ultra":
        out["URAM"] = uram_count(mem.depth, mem.width)
    elif style == "distributed" and not mem.rom:
        out["LUT"] = lutram_luts(mem.depth, mem.width)
    else:  # a distributed ROM, or a ROM in logic
        out["LUT"] = rom_logic_luts(mem.depth, mem.width)
    return out


# LUT sites per distributed-RAM primitive (the rest of RAM*X1S/D/M: by depth and ports).
_LUTRAM_SITES = {"RAM32M": 4, "RAM64M": 4, "RAM32M16": 8, "RAM64M8": 8, "RAM32X1D": 2, "RAM64X1D": 2,
                 "RAM128X1D": 4, "RAM256X1D": 8, "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2,
                 "RAM256X1S": 4, "RAM512X1S": 8, "RAM16X1D": 2, "RAM16X1S": 1}


def yosys_units(resources: dict, cells: dict) -> dict:
    """Yosys counts of a synthesized design in the estimate reports' units: LUT_ALL
    counts every LUT site (logic, LUTs used as distributed RAM, shift registers),
    BRAM_18K counts a 36 Kb block as two."""
    lutram = sum(n * _LUTRAM_SITES.get(c.lstrip("\\$"), 4) for c, n in cells.items()
                 if c.lstrip("\\$").startswith("RAM") and not c.lstrip("\\$").startswith("RAMB"))
    return {"LUT_ALL": resources.get("LUT", 0) + resources.get("SRL", 0) + lutram,
            "BRAM_18K": resources.get("BRAM18", 0) + 2 * resources.get("BRAM36", 0)}
