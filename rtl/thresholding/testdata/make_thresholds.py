"""Writes the threshold files of the synthesis targets (deterministic; run from this
directory: python3 make_thresholds.py). Rows ascending, signed THR_BITS, in the layout
of thresholding.sv: word cf, field pe*N_THRES + t = T[cf*PE + pe][t]."""

import random

# name -> (NUM_CHANNELS, PE, N_THRES, THR_BITS); keep in sync with BUILD.bazel _SYNTH.
CONFIGS = {
    "c64_pe4_t3": (64, 4, 3, 9),
    "c256_pe2_t15": (256, 2, 15, 9),
}

for name, (c, pe, n, bits) in CONFIGS.items():
    rng = random.Random(name)
    rows = [sorted(rng.randint(-(1 << (bits - 1)), (1 << (bits - 1)) - 1) for _ in range(n)) for _ in range(c)]
    with open(f"{name}.hex", "w") as f:
        for cf in range(c // pe):
            word = 0
            for p in range(pe):
                for t, v in enumerate(rows[cf * pe + p]):
                    word |= (v & ((1 << bits) - 1)) << ((p * n + t) * bits)
            f.write(f"{word:0{-(-pe * n * bits // 4)}x}\n")
