"""tools/package_weights.py: shipped weights keep the run's provenance and no path of the machine."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "package_weights.py"


def test_packaged_weights_load_and_say_how_they_were_trained(tiny_weights, tmp_path):
    from pscgan.models.weights import load_weights, read_weights_metadata

    run = tmp_path / "run"
    shutil.copytree(tiny_weights.parent, run)
    env = json.loads((run / "environment.json").read_text())
    env["command"] = ["/home/someone/.venv/bin/pscgan", "train", "--out", str(run)]
    env["resumes"] = [{"command": ["/home/someone/.venv/bin/pscgan", "train", "--resume", str(run)]}]
    (run / "environment.json").write_text(json.dumps(env))
    out = tmp_path / "shipped.safetensors"
    subprocess.run([sys.executable, str(TOOL), str(run), str(out)], check=True, capture_output=True)
    meta = read_weights_metadata(out)
    assert meta["training_command"] == "pscgan train --out run"
    assert json.loads(meta["training_resumes"]) == ["pscgan train --resume run"]
    assert json.loads(meta["test_subjects"]) == json.loads((run / "split.json").read_text())["test"]
    assert str(tmp_path) not in json.dumps(meta) and "/home/someone" not in json.dumps(meta)
    _, config = load_weights(out)  # float16 on disk, checksum verified, no pickle
    assert config.preset.startswith("tiny")
