"""The table renderers: mean (sd) cells, paired-test cells, CSV in long format."""

from __future__ import annotations

import csv
import io

from pscgan.experiments.tables import COLUMNS, render_csv, render_markdown


def _row(name, label, mean, test=None):
    summary = {
        "mean": mean,
        "sd": 0.02,
        "median": mean,
        "n": 2,
        "n_undefined": 0,
        "values": [mean - 0.01, mean + 0.01],
    }
    metrics = {c.key: dict(summary) for c in COLUMNS}
    metrics["scar_ratio_r"] = {
        "mean": None,
        "sd": None,
        "median": None,
        "n": 0,
        "n_undefined": 2,
        "values": [None, None],
    }
    tests = (
        {}
        if test is None
        else {
            "dice_overall": test,
            "ssim": {"n": 0, "n_excluded": 4, "median_difference": None, "statistic": None, "p_value": None},
        }
    )
    return {
        "name": name,
        "label": label,
        "seeds": [0, 1],
        "metrics": metrics,
        "tests": tests,
        "steps_per_phase": 10,
        "seconds_per_step": 0.5 if name == "full" else 0.25,
        "calibrated_seconds_per_step": 0.4,
    }


def _result(table="table3"):
    test = {"n": 8, "n_excluded": 0, "median_difference": -0.05, "statistic": 3.0, "p_value": 0.0234}
    return {
        "table": table,
        "title": "T",
        "preset": "cpu",
        "reference": "full",
        "seeds": 2,
        "budget": {"kind": "steps", "value": 10},
        "paired_metrics": ["dice_overall", "ssim"],
        "rows": [_row("full", "PSCGAN", 0.8), _row("conv3d", "3DConv", 0.7, test)],
    }


def test_markdown_has_mean_sd_and_p_values():
    md = render_markdown(_result())
    assert "| PSCGAN | 2 | 80.00% (2.00) | 0.800 (0.020) |" in md
    assert "p=0.0234 (n=8, Δ=-0.050)" in md
    assert "not defined (no pairs)" in md
    assert "n/a [2 n/a]" in md  # Pearson's r undefined in both seeds
    assert "Speed-up" not in md


def test_efficiency_table_reports_speed_up():
    md = render_markdown(_result("efficiency"))
    assert "Speed-up vs reference" in md and "| 2.00x |" in md


def test_csv_long_format():
    rows = list(csv.DictReader(io.StringIO(render_csv(_result()))))
    assert len(rows) == 2 * len(COLUMNS)
    dice = next(r for r in rows if r["variant"] == "conv3d" and r["metric"] == "dice_overall")
    assert float(dice["p_value"]) == 0.0234 and dice["n_pairs"] == "8" and float(dice["mean"]) == 0.7
