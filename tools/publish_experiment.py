"""Copy an experiment's table files into the repository without the paths of the machine it ran on.

Usage::

    python tools/publish_experiment.py EXP benchmarks/results/experiments --data-label phantom
    python tools/publish_experiment.py --refresh benchmarks/results/experiments/table3.json

Writes ``<table>.md``, ``.csv`` and ``.json`` from the experiment folder ``EXP`` to the destination,
rendered from the experiment's ``<table>.json`` by today's table renderer (so a table published
before a new section existed gets it when published again; ``--refresh`` re-renders an already
published ``<table>.json`` in place). The dataset path becomes ``--data-label``, and paths of runs
adopted from sibling experiments (``--reuse-from``) become ``<experiment>/<variant>/seed<k>``, and an
adopted ``pscgan train`` run folder elsewhere becomes its folder name, so the published tables say
what was run without naming where.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("experiment", type=Path, nargs="?")
    ap.add_argument("dest", type=Path, nargs="?")
    ap.add_argument("--data-label", default="phantom", help="What the dataset path is replaced with.")
    ap.add_argument("--refresh", type=Path, metavar="TABLE_JSON",
                    help="Re-render a published <table>.json's Markdown, CSV and JSON in place.")
    args = ap.parse_args()
    if args.refresh is not None:
        _write(args.refresh.parent, json.loads(args.refresh.read_text(encoding="utf-8")))
        return
    if args.experiment is None or args.dest is None:
        ap.error("give EXP and DEST, or --refresh TABLE_JSON")
    exp = args.experiment.resolve()
    plan = json.loads((exp / "plan.json").read_text(encoding="utf-8"))
    table = plan["request"]["table"]
    replacements = {str(exp.parent) + "/": "", plan["request"]["data"]: args.data_label}
    text = (exp / f"{table}.json").read_text(encoding="utf-8")
    for source in {
        Path(src) for row in json.loads(text).get("rows", []) for src in row.get("reused_from") or ()
    }:
        if not source.is_relative_to(exp.parent):  # a training run adopted from elsewhere
            replacements[str(source.parent) + "/"] = ""
    # longest first, so that a path inside another replaced path is not cut in two
    for old in sorted(replacements, key=len, reverse=True):
        text = text.replace(old, replacements[old])
    _write(args.dest, json.loads(text))


def _write(dest: Path, result: dict) -> None:
    from pscgan.experiments.tables import write_tables

    dest.mkdir(parents=True, exist_ok=True)
    for path in write_tables(dest, result).values():
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
