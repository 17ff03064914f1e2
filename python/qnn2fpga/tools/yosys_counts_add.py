"""Brings a checked-in Yosys counts file (rtl/layer_tests/yosys_counts.json) up to the
grid's declared configurations by synthesizing only what it lacks:

    bazel run //rtl/layer_tests:yosys_counts_add     # names the yosys_synth targets to build
    bazel build <those targets>                      # synthesizes just them
    bazel run //rtl/layer_tests:yosys_counts_add     # merges their counts into the file

Configurations whose attributes, variant and families are unchanged keep their counts;
new or changed ones take the counts of their synthesized targets (bazel-bin/...); rows no
longer declared are dropped. Rows are written exactly as hw_layer_resource_report writes
them, so a full resynthesis (`bazel run //rtl/layer_tests:yosys_counts_update`) gives the
same file when the RTL is unchanged. After an RTL change, use the full resynthesis.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

from absl import app, flags

from qnn2fpga.tools import resource_report

FLAGS = flags.FLAGS
flags.DEFINE_string("configs", None, "resource_report_configs.json: the declared configurations", required=True)
flags.DEFINE_string("counts", None, "the checked-in counts file, relative to the workspace", required=True)


def stale(declared: dict, checked_in: dict) -> list[str]:
    """Declared configurations the checked-in counts lack or list differently."""
    out = []
    for name, cfg in sorted(declared.items()):
        row = checked_in.get(name)
        if (row is None or row["attrs"] != cfg["attrs"] or row["variant"] != cfg["variant"]
                or sorted(f for f in ("xc7", "xcup") if f in row) != cfg["families"]):
            out.append(name)
    return out


def synth_output(bin_dir: pathlib.Path, label: str) -> pathlib.Path:
    """bazel-bin path of a yosys_synth target's report (//pkg:name -> pkg/name.json)."""
    pkg, _, name = label.lstrip("/").partition(":")
    return bin_dir / pkg / f"{name}.json"


def merge(declared: dict, checked_in: dict, bin_dir: pathlib.Path) -> tuple[dict, list[str], list[str]]:
    """(the merged report, the configurations taken from bin_dir, the synth targets still
    to build)."""
    todo = stale(declared, checked_in)
    missing = [declared[n]["synth"][f] for n in todo for f in declared[n]["families"]
               if not synth_output(bin_dir, declared[n]["synth"][f]).exists()]
    if missing:
        return {}, todo, missing
    entries = [(n, declared[n]["op"], f, str(synth_output(bin_dir, declared[n]["synth"][f])))
               for n in todo for f in declared[n]["families"]]
    fresh = resource_report.build_report(entries, {n: declared[n]["attrs"] for n in todo},
                                         {n: declared[n]["variant"] for n in todo if declared[n]["variant"]})
    rows = {n: checked_in[n] for n in declared if n not in todo}
    rows.update({row["name"]: row for row in fresh["layers"]})
    return {"columns": list(resource_report.COLUMNS + resource_report.DERIVED),
            "layers": [rows[n] for n in sorted(rows)]}, todo, []


def main(argv):
    del argv
    ws = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    if not ws:
        print("yosys_counts_add: run this with 'bazel run', which names the workspace", file=sys.stderr)
        return 2
    declared = json.loads(pathlib.Path(FLAGS.configs).read_text())
    path = pathlib.Path(ws) / FLAGS.counts
    checked_in = {row["name"]: row for row in json.loads(path.read_text())["layers"]}
    report, todo, missing = merge(declared, checked_in, pathlib.Path(ws) / "bazel-bin")
    if missing:
        print(f"yosys_counts_add: {len(todo)} configuration(s) lack counts; synthesize just them with\n"
              f"  bazel build {' '.join(missing)}\nthen run this again", file=sys.stderr)
        return 1
    dropped = sorted(set(checked_in) - set(declared))
    with open(str(path) + ".tmp", "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(str(path) + ".tmp", path)
    print(f"{FLAGS.counts}: added or replaced {len(todo)} configuration(s) ({', '.join(todo) or 'none'}), "
          f"dropped {len(dropped)}, kept {len(declared) - len(todo)}")
    return 0


if __name__ == "__main__":
    app.run(main)
