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

from qnn2fpga.layers.resources import yosys_units

FLAGS = flags.FLAGS
flags.DEFINE_multi_string("entry", [], "NAME,OP,FAMILY,PATH of a yosys_synth JSON")
flags.DEFINE_multi_string("attrs", [], "NAME=JSON layer attributes")
flags.DEFINE_multi_string("variant", [], "NAME=parameter variant of that configuration (e.g. shared_thresholds)")
flags.DEFINE_string("json", None, "output: report JSON")
flags.DEFINE_string("markdown", None, "output: report as Markdown tables")

COLUMNS = ("LUT", "FF", "LUTRAM", "SRL", "BRAM18", "BRAM36", "URAM", "DSP")
# Derived, in the estimate reports' units: LUT_ALL counts every LUT site (logic, LUTs used
# as distributed RAM, shift registers), BRAM_18K counts a 36 Kb block as two.
DERIVED = ("LUT_ALL", "BRAM_18K")


def build_report(entries, attrs, variants=None) -> dict:
    layers = {}
    for name, op, family, path in entries:
        with open(path) as f:
            synth = json.load(f)
        row = layers.setdefault(name, {"name": name, "op": op, "attrs": attrs.get(name, {}),
                                       "variant": (variants or {}).get(name, "")})
        row[family] = {k: synth["resources"].get(k, 0) for k in COLUMNS}
        row[family].update(yosys_units(synth["resources"], synth.get("cells", {})))
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
    flags.mark_flags_as_required(["json", "markdown"])  # not when imported (yosys_counts_add)
    app.run(main)
