"""Copy an experiment's table files into the repository without the paths of the machine it ran on.

Usage::

    python tools/publish_experiment.py EXP benchmarks/results/experiments --data-label phantom

Writes ``<table>.md``, ``.csv`` and ``.json`` from the experiment folder ``EXP`` to the destination.
The dataset path becomes ``--data-label``, and paths of runs adopted from sibling experiments
(``--reuse-from``) become ``<experiment>/<variant>/seed<k>``, and an adopted ``pscgan train`` run
folder elsewhere becomes its folder name, so the published tables say what was run without naming
where.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("experiment", type=Path)
    ap.add_argument("dest", type=Path)
    ap.add_argument("--data-label", default="phantom", help="What the dataset path is replaced with.")
    args = ap.parse_args()
    exp = args.experiment.resolve()
    plan = json.loads((exp / "plan.json").read_text(encoding="utf-8"))
    table = plan["request"]["table"]
    replacements = {str(exp.parent) + "/": "", plan["request"]["data"]: args.data_label}
    rows = json.loads((exp / f"{table}.json").read_text(encoding="utf-8")).get("rows", [])
    for source in {Path(src) for row in rows for src in row.get("reused_from") or ()}:
        if not source.is_relative_to(exp.parent):  # a training run adopted from elsewhere
            replacements[str(source.parent) + "/"] = ""
    args.dest.mkdir(parents=True, exist_ok=True)
    for suffix in ("md", "csv", "json"):
        text = (exp / f"{table}.{suffix}").read_text(encoding="utf-8")
        # longest first, so that a path inside another replaced path is not cut in two
        for old in sorted(replacements, key=len, reverse=True):
            text = text.replace(old, replacements[old])
        (args.dest / f"{table}.{suffix}").write_text(text, encoding="utf-8")
        print(f"wrote {args.dest / f'{table}.{suffix}'}")


if __name__ == "__main__":
    main()
