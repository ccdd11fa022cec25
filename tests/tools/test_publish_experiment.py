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
    for suffix in ("md", "csv", "json"):
        (exp / f"table6.{suffix}").write_text(f"data {data}; adopted from {source}\n")
    dest = tmp_path / "published"
    subprocess.run([sys.executable, str(TOOL), str(exp), str(dest), "--data-label", "phantom"], check=True,
                   capture_output=True)
    for suffix in ("md", "csv", "json"):
        text = (dest / f"table6.{suffix}").read_text()
        assert text == "data phantom; adopted from table5/full/seed0\n"
        assert str(tmp_path) not in text
