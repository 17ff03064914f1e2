"""Collects per-layer Yosys results into one resource report:

    resource_report --entry=NAME,OP,FAMILY,SYNTH.json --attrs=NAME='{"MW": 16, ...}' ...
                    --json=OUT.json --markdown=OUT.md

One entry per synthesized layer configuration and device family. The JSON lists each
configuration once: {"layers": [{"name", "op", "attrs", "variant", "xc7": {LUT, FF, ...},
"xcup": {...}}, ...]} sorted by name; the Markdown file is the same as a table per op.
Resource estimates are calibrated against this report.
"""

from __future__ import annotations

import json

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_multi_string("entry", [], "NAME,OP,FAMILY,PATH of a yosys_synth JSON")
flags.DEFINE_multi_string("attrs", [], "NAME=JSON layer attributes")
flags.DEFINE_multi_string("variant", [], "NAME=parameter variant of that configuration (e.g. shared_thresholds)")
flags.DEFINE_string("json", None, "output: report JSON", required=True)
flags.DEFINE_string("markdown", None, "output: report as Markdown tables", required=True)

COLUMNS = ("LUT", "FF", "LUTRAM", "SRL", "BRAM18", "BRAM36", "URAM", "DSP")
# Derived, in the estimate reports' units: LUT_ALL counts every LUT site (logic, LUTs used
# as distributed RAM, shift registers), BRAM_18K counts a 36 Kb block as two.
DERIVED = ("LUT_ALL", "BRAM_18K")

# LUT sites per distributed-RAM primitive (the rest of RAM*X1S/D/M: by depth and ports).
_LUTRAM_SITES = {"RAM32M": 4, "RAM64M": 4, "RAM32M16": 8, "RAM64M8": 8, "RAM32X1D": 2, "RAM64X1D": 2,
                 "RAM128X1D": 4, "RAM256X1D": 8, "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2,
                 "RAM256X1S": 4, "RAM512X1S": 8, "RAM16X1D": 2, "RAM16X1S": 1}


def derived(resources: dict, cells: dict) -> dict:
    lutram = sum(n * _LUTRAM_SITES.get(c.lstrip("\\$"), 4) for c, n in cells.items()
                 if c.lstrip("\\$").startswith("RAM") and not c.lstrip("\\$").startswith("RAMB"))
    return {"LUT_ALL": resources.get("LUT", 0) + resources.get("SRL", 0) + lutram,
            "BRAM_18K": resources.get("BRAM18", 0) + 2 * resources.get("BRAM36", 0)}


def build_report(entries, attrs, variants=None) -> dict:
    layers = {}
    for name, op, family, path in entries:
        with open(path) as f:
            synth = json.load(f)
        row = layers.setdefault(name, {"name": name, "op": op, "attrs": attrs.get(name, {}),
                                       "variant": (variants or {}).get(name, "")})
        row[family] = {k: synth["resources"].get(k, 0) for k in COLUMNS}
        row[family].update(derived(synth["resources"], synth.get("cells", {})))
    return {"columns": list(COLUMNS + DERIVED), "layers": [layers[n] for n in sorted(layers)]}


def markdown(report) -> str:
    lines = []
    families = sorted({k for row in report["layers"] for k in row if k not in ("name", "op", "attrs", "variant")})
    for op in sorted({row["op"] for row in report["layers"]}):
        lines += [f"## {op}", "", "| configuration | " + " | ".join(f"{fam} {c}" for fam in families
                                                                    for c in ("LUT", "FF", "BRAM36", "BRAM18",
                                                                              "URAM", "DSP")) + " |",
                  "|---" * (1 + 6 * len(families)) + "|"]
        for row in report["layers"]:
            if row["op"] == op:
                cells = [str(row.get(fam, {}).get(c, "")) for fam in families
                         for c in ("LUT", "FF", "BRAM36", "BRAM18", "URAM", "DSP")]
                lines.append(f"| {row['name']} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv):
    del argv
    entries = [tuple(e.split(",", 3)) for e in FLAGS.entry]
    attrs = {}
    for a in FLAGS.attrs:
        name, _, text = a.partition("=")
        attrs[name] = json.loads(text)
    variants = dict(v.split("=", 1) for v in FLAGS.variant)
    report = build_report(entries, attrs, variants)
    with open(FLAGS.json, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(FLAGS.markdown, "w") as f:
        f.write(markdown(report))


if __name__ == "__main__":
    app.run(main)
