"""The MVAU configurations of rtl/mvau's Verilator tests and synthesis runs, as layers.

gen_grid_params.py builds each as an MVAU layer and writes the RTL parameters its rtl()
hook gives into grid_params.bzl, which rtl/mvau/BUILD.bazel loads.
"""

from __future__ import annotations

from typing import NamedTuple


class Mvau(NamedTuple):
    """One MVAU layer: matrix MW x MH folded by SIMD (divides MW) and PE (divides MH);
    input and weight datatypes "BIPOLAR", "INTn" or "UINTn"; `act` "none" (stream the
    accumulator), "BIPOLAR" (one threshold, 1-bit output) or an INTn/UINTn output type
    (2^n - 1 thresholds, ACT_VAL = the type's minimum); mem_mode internal_embedded,
    internal_decoupled or external; ram_style auto, block, distributed or ultra;
    runtime_writeable 1: the weight memory is writable through s_axilite
    (internal_decoupled only)."""

    mw: int
    mh: int
    simd: int
    pe: int
    idt: str
    wdt: str
    act: str
    num_vectors: int = 1
    mem_mode: str = "internal_embedded"
    ram_style: str = "auto"
    runtime_writeable: int = 0


# --- Verilator test grid ----------------------------------------------------------------------
# Datatype mixes: (name, input, weight, activation, MW, MH, middle SIMD, middle PE).
# Activation "none" streams the accumulator; "BIPOLAR" is one threshold; INTn/UINTn
# output 2^n - 1 thresholds with ACT_VAL = the type's minimum.
MIXES = [
    ("xnor", "BIPOLAR", "BIPOLAR", "BIPOLAR", 64, 32, 8, 4),  # binary: XNOR + popcount
    ("w1a2", "INT2", "BIPOLAR", "INT2", 32, 16, 4, 4),  # bipolar weights, 2-bit activations
    ("w2a1", "BIPOLAR", "INT2", "none", 36, 12, 6, 3),  # integer weights, bipolar activations
    ("w2a2", "INT2", "INT2", "UINT2", 48, 20, 12, 5),
    ("w4a8_acc", "UINT8", "INT4", "none", 16, 24, 4, 6),
    ("w4a8_thr", "UINT8", "INT4", "UINT4", 20, 8, 5, 2),
    # Activations narrower than weights: the Booth-recoded operand is x, and unsigned.
    ("w4a2u", "UINT2", "INT4", "INT3", 24, 12, 6, 4),
]

MODES = ["internal_embedded", "internal_decoupled", "external"]

MODE_TAG = {
    "internal_embedded": "emb",
    "internal_decoupled": "dec",
    "external": "ext",
}

# ram_style only changes a synthesis attribute, but each style is its own generate branch
# of rtl/common/ram_sdp.sv. ("ultra" is refused for weight files: URAM has no initial
# contents; the runtime-writable configurations below use it.)
STYLES = ["auto", "block", "distributed"]

FOLDS = ["min", "mid", "full"]

# (name, layer), in the order of the tests' seeds (1000 + index).
# Every mix x every folding (SIMD = PE = 1; the middle values; SIMD = MW, PE = MH), with
# the memory mode and NUM_VECTORS (1 or 3) rotated so that every mix meets every mode,
# every folding meets every mode, and every mode runs with 1 and with 3 vectors per frame
# (mode = (i + j) % 3 and NUM_VECTORS by (i + j) % 2 for mix i, folding j).
GRID = [
    (
        "%s_%s_%s_nv%d" % (mix[0], fold, MODE_TAG[MODES[(i + j) % 3]], [1, 3][(i + j) % 2]),
        Mvau(
            mw=mix[4],
            mh=mix[5],
            simd={"min": 1, "mid": mix[6], "full": mix[4]}[fold],
            pe={"min": 1, "mid": mix[7], "full": mix[5]}[fold],
            idt=mix[1],
            wdt=mix[2],
            act=mix[3],
            num_vectors=[1, 3][(i + j) % 2],
            mem_mode=MODES[(i + j) % 3],
            ram_style=STYLES[(i + 2 * j) % 3],
        ),
    )
    for i, mix in enumerate(MIXES)
    for j, fold in enumerate(FOLDS)
] + [
    # Lopsided foldings: all SIMD and no PE parallelism, and the reverse.
    (
        "%s_%s_%s_nv2" % (mix[0], fold, MODE_TAG[mode]),
        Mvau(
            mw=mix[4],
            mh=mix[5],
            simd=1 if fold == "pe_only" else mix[4],
            pe=mix[5] if fold == "pe_only" else 1,
            idt=mix[1],
            wdt=mix[2],
            act=mix[3],
            num_vectors=2,
            mem_mode=mode,
        ),
    )
    for mix, fold, mode in [
        (MIXES[0], "pe_only", "internal_decoupled"),
        (MIXES[0], "simd_only", "external"),
        (MIXES[5], "pe_only", "internal_embedded"),
        (MIXES[5], "simd_only", "internal_decoupled"),
    ]
] + [
    # TFC-w1a1's hidden layer shape at its usual folding.
    ("tfc_64x64_pe16_dec_nv4", Mvau(64, 64, 16, 16, "BIPOLAR", "BIPOLAR", "BIPOLAR", 4, "internal_decoupled")),
] + [
    # Runtime-writable weights: the weight file holds zeros (URAM: no file) and the
    # testbench writes the weights through s_axilite before streaming, then rewrites words
    # while streaming. Weight words of 1 chunk (32 bits), 2 (40 bits), 3 (96 bits: stride
    # 4), 15 (480 bits, 4 words) and 27 (864 bits, a single word); every memory style.
    (
        "rw_" + name,
        Mvau(
            mw=mix[4],
            mh=mix[5],
            simd=simd,
            pe=pe,
            idt=mix[1],
            wdt=mix[2],
            act=act,
            num_vectors=nv,
            mem_mode="internal_decoupled",
            ram_style=style,
            runtime_writeable=1,
        ),
    )
    for name, mix, simd, pe, act, nv, style in [
        ("xnor_mid_block_nv2", MIXES[0], 8, 4, "BIPOLAR", 2, "block"),
        ("w4a8_thr_mid_dist_nv1", MIXES[5], 5, 2, "UINT4", 1, "distributed"),
        ("w4a8_mid_ultra_nv3", MIXES[4], 4, 6, "UINT4", 3, "ultra"),
        ("w2a2_simd_full_auto_nv2", MIXES[3], 48, 5, "UINT2", 2, "auto"),
        ("w2a1_full_block_nv1", MIXES[2], 36, 12, "none", 1, "block"),
    ]
]

# --- Out-of-context synthesis, 7-series and UltraScale+ -----------------------------------------
# TFC-w1a1 (784-64-64-64-10, binarized; the last layer outputs the accumulator) at PE = SIMD
# = 16 (PE = 10 for the 10 outputs) and fully folded (PE = SIMD = 1), plus integer layers in
# the streamed-weight modes. (name, layer, families)
SYNTH = [
    ("tfc_l0_pe16", Mvau(784, 64, 16, 16, "BIPOLAR", "BIPOLAR", "BIPOLAR"), ["xc7", "xcup"]),
    ("tfc_l0_pe1", Mvau(784, 64, 1, 1, "BIPOLAR", "BIPOLAR", "BIPOLAR"), ["xc7", "xcup"]),
    ("tfc_l1_pe16", Mvau(64, 64, 16, 16, "BIPOLAR", "BIPOLAR", "BIPOLAR"), ["xc7", "xcup"]),
    ("tfc_l1_pe1", Mvau(64, 64, 1, 1, "BIPOLAR", "BIPOLAR", "BIPOLAR"), ["xc7", "xcup"]),
    ("tfc_l3_pe10", Mvau(64, 10, 16, 10, "BIPOLAR", "BIPOLAR", "none"), ["xc7", "xcup"]),
    ("tfc_l3_pe1", Mvau(64, 10, 1, 1, "BIPOLAR", "BIPOLAR", "none"), ["xc7", "xcup"]),
    ("tfc_l0_pe16_dec_block", Mvau(784, 64, 16, 16, "BIPOLAR", "BIPOLAR", "BIPOLAR", mem_mode="internal_decoupled",
                                   ram_style="block"), ["xc7", "xcup"]),
    ("w4a8_64x64_pe8_dec_dist", Mvau(64, 64, 8, 8, "UINT8", "INT4", "UINT4", mem_mode="internal_decoupled",
                                     ram_style="distributed"), ["xc7", "xcup"]),
    ("w4a8_64x64_pe8_ext", Mvau(64, 64, 8, 8, "UINT8", "INT4", "none", mem_mode="external"), ["xc7", "xcup"]),
    ("w8a8_64x64_pe4_block", Mvau(64, 64, 8, 4, "INT8", "INT8", "none", ram_style="block"), ["xc7", "xcup"]),
]

# --- Runtime-writable weight memories in synthesis ----------------------------------------------
# A whole MVAU with a runtime-writable "ultra" weight memory of 4096 words of 72 bits (one
# URAM288 is 4K x 72): INT4 weights, PE = 2, SIMD = 9, 576 x 128: SF = NF = 64. No weight
# file: "ultra" has no initial contents. (name, layer, families)
RW_SYNTH = [
    ("w4a4_576x128_rw_ultra", Mvau(576, 128, 9, 2, "UINT4", "INT4", "none", mem_mode="internal_decoupled",
                                   ram_style="ultra", runtime_writeable=1), ["xcup"]),
]
