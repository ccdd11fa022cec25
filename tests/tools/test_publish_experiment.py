"""tools/publish_experiment.py: the published tables name no path of the machine they ran on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "publish_experiment.py"


def test_paths_become_the_data_label_and_sibling_experiment_names(tmp_path):
    data = tmp_path / "lab" / "datasets" / "phantom-v2"
    exp = tmp_path / "lab" / "experiments" / "table6"
    exp.mkdir(parents=True)
    (exp / "plan.json").write_text(json.dumps({"request": {"table": "table6", "data": str(data)}}))
    source = tmp_path / "lab" / "experiments" / "table5" / "full" / "seed0"
    trained = tmp_path / "lab" / "models" / "cpu-run"  # a pscgan train run adopted as a reference
    rows = [{"reused_from": [str(source)]}, {"reused_from": [str(trained)]}, {"reused_from": []}]
    for suffix in ("md", "csv"):
        (exp / f"table6.{suffix}").write_text(f"data {data}; adopted from {source} and {trained}\n")
    (exp / "table6.json").write_text(json.dumps({"data": str(data), "rows": rows}))
    dest = tmp_path / "published"
    subprocess.run([sys.executable, str(TOOL), str(exp), str(dest), "--data-label", "phantom"], check=True,
                   capture_output=True)
    for suffix in ("md", "csv"):
        text = (dest / f"table6.{suffix}").read_text()
        assert text == "data phantom; adopted from table5/full/seed0 and cpu-run\n"
    published = json.loads((dest / "table6.json").read_text())
    assert published["data"] == "phantom"
    assert [r["reused_from"] for r in published["rows"]] == [["table5/full/seed0"], ["cpu-run"], []]
    for suffix in ("md", "csv", "json"):
        assert str(tmp_path) not in (dest / f"table6.{suffix}").read_text()
