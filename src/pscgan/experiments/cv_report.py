"""The cross-validation summary as Markdown (the paper's Table 1 and Table 2 layouts, each cell
mean (sd) across folds), CSV (one line per quantity) and JSON.

Example:
    >>> fold_cell({"mean": 0.5, "sd": 0.1, "median": 0.5, "n": 3, "n_undefined": 1}, 2, 100, "%")
    '50.00% (10.00) [1 n/a]'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pscgan.evaluation.summary import Summary
from pscgan.evaluation.tables import csv_table, markdown_table
from pscgan.io.atomic import write_json_atomic, write_text_atomic

_CLASS_ROWS = (("Overall", "overall"), ("Scar", "scar"), ("Healthy myocardium", "healthy_myocardium"),
               ("Blood pool", "lv_blood_pool"))
_SEG_COLS = (("Accuracy", "accuracy", 2, 100.0, "%"), ("Sensitivity", "sensitivity", 2, 100.0, "%"),
             ("Specificity", "specificity", 2, 100.0, "%"), ("Dice coefficient", "dice", 3, 1.0, ""),
             ("HD95 (mm)", "hd95_mm", 1, 1.0, ""))
_DIAG_ROWS = (("Scar segment-level localization", "segment_localisation"),
              ("Scar transmurality (> 50 %)", "transmurality"))
_DIAG_COLS = (("Sensitivity", "sensitivity", 2, 100.0, "%"), ("Specificity", "specificity", 2, 100.0, "%"),
              ("PPV", "ppv", 2, 100.0, "%"), ("NPV", "npv", 2, 100.0, "%"), ("AUC", "auc", 2, 1.0, ""))
_AGREE_ROWS = (("Scar size per slice (cm²)", "scar_size_slice_cm2", 1.0),
               ("Scar volume (ml)", "scar_volume_ml", 1.0), ("Scar ratio (%)", "scar_ratio", 100.0))


def fold_cell(summary: dict[str, Any] | None, digits: int, scale: float = 1.0, suffix: str = "") -> str:
    """``mean (sd)`` across folds; folds where the quantity is not defined are counted."""
    if summary is None:
        return "n/a"
    text = Summary(**{k: summary[k] for k in ("mean", "sd", "median", "n", "n_undefined")}).format(
        digits, scale, suffix)
    return text + (f" [{summary['n_undefined']} n/a]" if summary["n_undefined"] else "")


def render_markdown(summary: dict[str, Any]) -> str:
    """Table 1 (segmentation, synthesis) and Table 2 (diagnosis, agreement) across folds."""
    q = summary["quantities"]
    seg = [[title] + [fold_cell(q.get(f"segmentation.{key}.{m}"), d, s, u) for _, m, d, s, u in _SEG_COLS]
           for title, key in _CLASS_ROWS]
    syn = [[fold_cell(q.get("synthesis.ssim"), 2), fold_cell(q.get("synthesis.nrmse"), 2),
            fold_cell(q.get("synthesis.psnr_db"), 2)]]
    diag = [[title] + [fold_cell(q.get(f"{key}.{m}"), d, s, u) for _, m, d, s, u in _DIAG_COLS]
            for title, key in _DIAG_ROWS]
    agree = [[title, fold_cell(q.get(f"{key}.pearson_r"), 2), fold_cell(q.get(f"{key}.bias"), 2, scale)]
             for title, key, scale in _AGREE_ROWS]
    budget = summary.get("budget")
    budget_text = "the preset's steps per phase" if not budget else f"{budget['value']:g} {budget['kind']}"
    lines = [
        f"## {summary['folds']}-fold subject-level cross-validation",
        "",
        f"Preset `{summary['preset']}`, budget {budget_text} ({summary['steps_per_phase']} steps per phase), "
        f"{summary['n_folds_done']} of {summary['folds']} folds finished. Each cell is mean (sd) across "
        "folds of that fold's `pscgan evaluate` value; [k n/a] counts folds where it was not defined.",
        "",
        "### Table 1: segmentation and synthesis",
        "",
        markdown_table([""] + [c[0] for c in _SEG_COLS], seg),
        "",
        markdown_table(["SSIM", "NRMSE", "PSNR (dB)"], syn),
        "",
        "### Table 2: clinical metrics",
        "",
        markdown_table([""] + [c[0] for c in _DIAG_COLS], diag),
        "",
        markdown_table(["", "Pearson's r", "Bias (method - reference)"], agree),
    ]
    return "\n".join(lines) + "\n"


def render_csv(summary: dict[str, Any]) -> str:
    """One line per quantity: mean, sd and counts across folds, then the value of each fold."""
    folds = sorted(summary["per_fold"], key=lambda f: int(f.removeprefix("fold")))
    header = ["quantity", "mean", "sd", "n_folds_defined", "n_folds_undefined", *folds]
    rows = []
    for name, s in summary["quantities"].items():
        values = [summary["per_fold"][f].get(name) for f in folds]
        rows.append(
            [
                name,
                *("" if v is None else v for v in (s["mean"], s["sd"])),
                s["n"],
                s["n_undefined"],
                *("" if v is None else v for v in values),
            ]
        )
    return csv_table(header, rows)


def write_summary(out: Path, summary: dict[str, Any]) -> dict[str, Path]:
    """Write ``cv_summary.md``, ``cv_summary.csv`` and ``cv_summary.json`` into ``out``."""
    paths = {
        "markdown": out / "cv_summary.md",
        "csv": out / "cv_summary.csv",
        "json": out / "cv_summary.json",
    }
    write_text_atomic(paths["markdown"], render_markdown(summary))
    write_text_atomic(paths["csv"], render_csv(summary))
    write_json_atomic(paths["json"], summary)
    return paths
