"""Experiment tables in the layout of the paper's Tables 3-5: one row per variant, mean (sd) over
seeds, and the paired tests against the reference, as Markdown, CSV and JSON.

Example:
    >>> cell({"mean": 0.9717, "sd": 0.0048, "median": 0.97, "n": 3, "n_undefined": 0}, COLUMNS[0])
    '97.17% (0.48)'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pscgan.evaluation.summary import Summary
from pscgan.evaluation.tables import csv_table, markdown_table
from pscgan.experiments.paper_effects import ALPHA, PAPER_METRICS, compare_with_paper
from pscgan.experiments.stats import TEST_NAME
from pscgan.io.atomic import write_json_atomic, write_text_atomic


@dataclass(frozen=True)
class Column:
    """A metric column: key in the run metrics, title, and how its values are printed."""

    key: str
    title: str
    digits: int = 3
    scale: float = 1.0
    suffix: str = ""


COLUMNS = (
    Column("accuracy", "Accuracy (overall)", 2, 100.0, "%"),
    Column("dice_overall", "Dice (overall)"),
    Column("dice_scar", "Dice (scar)"),
    Column("ssim", "SSIM", 2),
    Column("psnr_db", "PSNR (dB)", 2),
    Column("scar_size_r", "Pearson's r (scar size)", 2),
    Column("scar_ratio_r", "Pearson's r (scar ratio)", 2),
    Column("scar_ratio_abs_error", "Scar ratio abs. error", 2, 100.0, "%"),
)


def cell(summary: dict[str, Any], column: Column) -> str:
    """``mean (sd)`` of a seed summary, ``n/a`` when no seed has a defined value."""
    fields: dict[str, Any] = {k: summary.get(k) for k in ("mean", "sd", "median", "n", "n_undefined")}
    text = Summary(**fields).format(column.digits, column.scale, column.suffix)
    if summary.get("n_undefined"):
        text += f" [{summary['n_undefined']} n/a]"
    return text


def paired_cell(test: dict[str, Any] | None, column: Column) -> str:
    """``p=... (n=..., Δ=...)`` of a paired test, or why there is none."""
    if not test:
        return "—"
    if test["n"] == 0:
        return "not defined (no pairs)"
    delta = f"Δ={test['median_difference'] * column.scale:+.{column.digits}f}"
    if test["p_value"] is None:
        return f"not defined (all differences 0, n={test['n']})"
    return f"p={test['p_value']:.3g} (n={test['n']}, {delta})"


def _timing(row: dict[str, Any]) -> tuple[str, str]:
    steps = row.get("steps_per_phase")
    sps = row.get("seconds_per_step")
    return (str(steps) if steps is not None else "n/a", f"{sps:.3f}" if sps is not None else "n/a")


def _reuse_note(rows: list[dict[str, Any]]) -> str:
    reused = [(r["label"], src) for r in rows for src in r.get("reused_from") or ()]
    if not reused:
        return ""
    listed = "; ".join(f"{label}: `{src}`" for label, src in reused)
    return (f" Runs adopted from an earlier experiment (same configuration, seed, data and split; "
            f"not retrained): {listed}.")


def render_markdown(result: dict[str, Any]) -> str:
    """The experiment's Markdown report: the table, then the paired tests."""
    rows = result["rows"]
    reference = next((r for r in rows if r["name"] == result["reference"]), None)
    efficiency = result["table"] == "efficiency"
    header = ["Variant", "Seeds"] + [c.title for c in COLUMNS] + ["Steps/phase", "s/step (training)"]
    if efficiency:
        header += ["s/step (calibrated)", "Speed-up vs reference"]
    body = []
    for r in rows:
        line = [r["label"], str(len(r["seeds"]))] + [cell(r["metrics"][c.key], c) for c in COLUMNS]
        line += list(_timing(r))
        if efficiency:
            cal = r.get("calibrated_seconds_per_step")
            line.append(f"{cal:.3f}" if cal is not None else "n/a")
            ref_sps = reference.get("seconds_per_step") if reference else None
            line.append(
                f"{ref_sps / r['seconds_per_step']:.2f}x" if ref_sps and r.get("seconds_per_step") else "n/a"
            )
        body.append(line)
    paired_cols = [c for c in COLUMNS if c.key in result["paired_metrics"]]
    tests = [
        [r["label"]] + [paired_cell(r["tests"].get(c.key), c) for c in paired_cols]
        for r in rows
        if r["name"] != result["reference"]
    ]
    budget = result.get("budget") or {}
    budget_text = (
        "the preset's steps per phase"
        if not budget
        else f"{budget['value']:g} {budget['kind']}"
        + (" per phase" if budget["kind"] == "steps" else " of training per variant")
    )
    ref_label = reference["label"] if reference else result["reference"]
    lines = [
        f"## {result['title']}",
        "",
        f"Preset `{result['preset']}`, budget {budget_text}, {result['seeds']} seed(s); values are "
        f"mean (sd) over seeds of each run's test-set result. s/step (training) is the measured "
        f"training wall-clock time over all generator steps of all phases."
        + (f" {result['calibration_note']}" if result.get("calibration_note") else "")
        + _reuse_note(rows),
        "",
        markdown_table(header, body),
        "",
        f"### Paired tests against {ref_label}",
        "",
        f"{TEST_NAME}; Δ is the median difference variant minus reference; Pearson's r is a cohort "
        f"statistic with no per-subject pairs and is not tested.",
        "",
    ]
    lines += [
        markdown_table(["Variant"] + [c.title for c in paired_cols], tests) if tests else "(no other variant)"
    ]
    lines += _paper_section(result, ref_label)
    return "\n".join(lines) + "\n"


def _value(value: float | None, column: Column) -> str:
    return "n/a" if value is None else f"{value * column.scale:.{column.digits}f}{column.suffix}"


def _tally(comparison: list[dict[str, Any]]) -> str:
    order = ["same direction", "opposite direction", "no significant difference here"]
    counts: dict[str, int] = {}
    for e in comparison:
        kind = e["verdict"].removesuffix(" (not tested)")
        counts[kind] = counts.get(kind, 0) + 1
    kinds = sorted(counts, key=lambda k: (order.index(k) if k in order else len(order), k))
    return f"Of {len(comparison)} effects: " + "; ".join(f"{k} {counts[k]}" for k in kinds) + "."


def _paper_section(result: dict[str, Any], ref_label: str) -> list[str]:
    """The paper's reported effect of each variant beside the one measured here (direction only)."""
    comparison = compare_with_paper(result)
    if not comparison:
        return []
    columns = {c.key: c for c in COLUMNS}
    body = []
    for e in comparison:
        c = columns[e["metric"]]
        paper_variant = (_value(e["paper_variant"], c) if e["paper_variant"] is not None
                         else {1: "higher", -1: "lower", 0: "equal"}[e["paper_direction"]])
        if e["p_value"] is None:
            p = "not tested" if e["median_paired_difference"] is None else "not defined"
        else:
            delta = e["median_paired_difference"] * c.scale
            p = f"p={e['p_value']:.3g}, Δ={delta:+.{c.digits + 1}f}{c.suffix}"
        body.append(
            [
                e["label"],
                PAPER_METRICS[e["metric"]],
                f"{_value(e['paper_full'], c)} → {paper_variant}",
                f"{_value(e['reference_mean'], c)} → {_value(e['variant_mean'], c)}",
                p,
                e["verdict"],
                e["paper_source"],
            ]
        )
    return [
        "",
        "### Against the paper's reported effects",
        "",
        f"The paper's values are on its 180 patients and are not comparable with these; the direction of "
        f"each effect is. Here: {ref_label} → variant, mean over seeds; a tested difference counts only "
        f"at p < {ALPHA:g}, in the direction of its median paired difference Δ (the paired tests above); "
        f"Pearson's r is not tested and counts by its sign. {_tally(comparison)}",
        "",
        markdown_table(["Variant", "Metric", "Paper: full → variant", "Here: reference → variant",
                        "Paired test", "Direction", "Paper source"], body),
    ]


def render_csv(result: dict[str, Any]) -> str:
    """Long format: one line per variant and metric, with the paired test's numbers."""
    header = [
        "variant",
        "label",
        "metric",
        "mean",
        "sd",
        "n_seeds_defined",
        "n_seeds_undefined",
        "p_value",
        "n_pairs",
        "median_difference",
        "steps_per_phase",
        "seconds_per_step",
    ]
    lines = []
    for r in result["rows"]:
        for c in COLUMNS:
            s, t = r["metrics"][c.key], r["tests"].get(c.key) or {}
            lines.append(
                [
                    r["name"],
                    r["label"],
                    c.key,
                    _blank(s["mean"]),
                    _blank(s["sd"]),
                    s["n"],
                    s["n_undefined"],
                    _blank(t.get("p_value")),
                    _blank(t.get("n")),
                    _blank(t.get("median_difference")),
                    _blank(r.get("steps_per_phase")),
                    _blank(r.get("seconds_per_step")),
                ]
            )
    return csv_table(header, lines)


def _blank(value: Any) -> Any:
    return "" if value is None else value


def write_tables(out: Path, result: dict[str, Any]) -> dict[str, Path]:
    """Write ``<table>.md``, ``<table>.csv`` and ``<table>.json`` into ``out``; returns their paths."""
    name = result["table"]
    paths = {"markdown": out / f"{name}.md", "csv": out / f"{name}.csv", "json": out / f"{name}.json"}
    write_text_atomic(paths["markdown"], render_markdown(result))
    write_text_atomic(paths["csv"], render_csv(result))
    write_json_atomic(paths["json"], {**result, "paper_comparison": compare_with_paper(result)})
    return paths
