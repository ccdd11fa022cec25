"""tools/publish_experiment.py: the published tables name no path of the machine they ran on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "publish_experiment.py"


def _summary(mean):
    return {"mean": mean, "sd": 0.01, "median": mean, "n": 1, "n_undefined": 0, "values": [mean]}


def _row(name, label, reused_from):
    keys = ("accuracy", "dice_overall", "dice_scar", "ssim", "psnr_db", "scar_size_r", "scar_ratio_r",
            "scar_ratio_abs_error")
    return {"name": name, "label": label, "seeds": [0], "metrics": {k: _summary(0.5) for k in keys},
            "tests": {}, "steps_per_phase": 10, "seconds_per_step": 0.5, "reused_from": reused_from}


def _experiment(tmp_path):
    data = tmp_path / "lab" / "datasets" / "phantom-v2"
    exp = tmp_path / "lab" / "experiments" / "table3"
    exp.mkdir(parents=True)
    (exp / "plan.json").write_text(json.dumps({"request": {"table": "table3", "data": str(data)}}))
    source = tmp_path / "lab" / "experiments" / "table5" / "full" / "seed0"
    trained = tmp_path / "lab" / "models" / "cpu-run"  # a pscgan train run adopted as a reference
    result = {"table": "table3", "title": "Table 3", "preset": "cpu", "reference": "full", "seeds": 1,
              "budget": {"kind": "steps", "value": 10}, "paired_metrics": ["accuracy", "ssim"],
              "data": str(data), "complete": True,
              "rows": [_row("full", "PSCGAN", [str(source)]),
                       _row("conv3d", "3DConv", [str(trained)]), _row("adversarial_off", "No D", [])]}
    (exp / "table3.json").write_text(json.dumps(result))
    return exp


def test_paths_become_the_data_label_and_sibling_experiment_names(tmp_path):
    exp = _experiment(tmp_path)
    dest = tmp_path / "published"
    subprocess.run([sys.executable, str(TOOL), str(exp), str(dest), "--data-label", "phantom"], check=True,
                   capture_output=True)
    published = json.loads((dest / "table3.json").read_text())
    assert published["data"] == "phantom"
    assert [r["reused_from"] for r in published["rows"]] == [["table5/full/seed0"], ["cpu-run"], []]
    md = (dest / "table3.md").read_text()
    assert "PSCGAN: `table5/full/seed0`; 3DConv: `cpu-run`" in md
    # rendered by today's renderer: the comparison with the paper's effects is there
    assert "### Against the paper's reported effects" in md and published["paper_comparison"]
    for suffix in ("md", "csv", "json"):
        assert str(tmp_path) not in (dest / f"table3.{suffix}").read_text()


def test_refresh_re_renders_a_published_table_in_place(tmp_path):
    exp = _experiment(tmp_path)
    table = exp / "table3.json"
    subprocess.run([sys.executable, str(TOOL), "--refresh", str(table)], check=True, capture_output=True)
    assert "### Against the paper's reported effects" in (exp / "table3.md").read_text()
    assert (exp / "table3.csv").read_text().startswith("variant,label,metric,")
    first = table.read_text()
    subprocess.run([sys.executable, str(TOOL), "--refresh", str(table)], check=True, capture_output=True)
    assert table.read_text() == first  # the derived comparison is replaced, not nested


def test_without_arguments_the_tool_says_what_it_needs():
    done = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "give EXP and DEST, or --refresh TABLE_JSON" in done.stderr
