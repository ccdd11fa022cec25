"""`pscgan anatomy pack/train` on an anatomy-only dataset, then `pscgan predict` with the weights made."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from pscgan.cli.main import app

runner = CliRunner()
TINY = ["--licence", "test data", "--device", "cpu", "--set", "channels=[4,8,16]", "--set", "num_res_units=0",
        "--set", "window=32", "--set", "batch_size=2", "--set", "steps=2", "--set", "validation_interval=1"]


def test_anatomy_only_contours_train_the_anatomy_network_that_predict_then_uses(tmp_path: Path,
                                                                                  ring_dataset: Path) -> None:
    from tests.conftest import anatomy_only  # noqa: PLC0415 - the fixture module's helper

    data = tmp_path / "contours"
    shutil.copytree(ring_dataset, data)
    anatomy_only(data, annotated=["lv_blood_pool", "myocardium"])
    refused = runner.invoke(app, ["train", "--data", str(data), "--out", str(tmp_path / "cascade"),
                                  "--preset", "tiny"])
    assert refused.exit_code == 2 and "pscgan anatomy train" in refused.output
    pack = tmp_path / "mine.npz"
    res = runner.invoke(app, ["anatomy", "pack", "--dataset", str(data), "--out", str(pack)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["anatomy", "train", "--pack", f"mine={pack}", "--validation", str(pack),
                              "--out", str(tmp_path / "run"), *TINY])
    assert res.exit_code == 0, res.output
    weights = tmp_path / "run" / "model.safetensors"
    assert weights.is_file()
    # a second call on the finished folder trains nothing more and keeps the weights
    before = weights.read_bytes()
    again = runner.invoke(app, ["anatomy", "train", "--pack", f"mine={pack}", "--validation", str(pack),
                                "--out", str(tmp_path / "run"), *TINY])
    assert again.exit_code == 0 and weights.read_bytes() == before
    subject = sorted(p for p in data.iterdir() if p.is_dir())[0]
    pred = runner.invoke(app, ["predict", str(subject), "--anatomy-weights", str(weights),
                               "--out", str(tmp_path / "pred")])
    assert pred.exit_code == 0, pred.output
    batch = json.loads((tmp_path / "pred" / "batch.json").read_text())
    assert batch["weights"]["anatomy"]["licence"] == "test data"


def test_bad_anatomy_arguments_end_in_one_line(tmp_path: Path) -> None:
    res = runner.invoke(app, ["anatomy", "pack", "--out", str(tmp_path / "p.npz")])
    assert res.exit_code == 2 and "exactly one of --acdc and --dataset" in res.output
    (tmp_path / "junk.npz").write_bytes(b"junk")
    res = runner.invoke(app, ["anatomy", "train", "--pack", f"a={tmp_path / 'junk.npz'}", "--validation",
                              str(tmp_path / "junk.npz"), "--out", str(tmp_path / "run")])
    assert res.exit_code == 2 and "junk.npz" in res.output
    res = runner.invoke(app, ["anatomy", "train", "--pack", "nonsense", "--validation", "x", "--out",
                              str(tmp_path / "run")])
    assert res.exit_code == 2 and "NAME=VALUE" in res.output


def test_a_users_folder_or_file_is_never_trained_or_packed_over(tmp_path: Path, ring_dataset: Path) -> None:
    pack = tmp_path / "p.npz"
    made = runner.invoke(app, ["anatomy", "pack", "--dataset", str(ring_dataset), "--out", str(pack)])
    assert made.exit_code == 0, made.output
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("keep me")
    res = runner.invoke(app, ["anatomy", "train", "--pack", f"a={pack}", "--validation", str(pack),
                              "--out", str(thesis), *TINY])
    assert res.exit_code == 2 and "not an anatomy training run" in res.output
    assert sorted(p.name for p in thesis.iterdir()) == ["chapter1.tex"]
    notes = tmp_path / "notes.npz"
    notes.write_bytes(b"my own file")
    res = runner.invoke(app, ["anatomy", "pack", "--dataset", str(ring_dataset), "--out", str(notes),
                              "--overwrite"])
    assert res.exit_code == 2 and notes.read_bytes() == b"my own file"
    res = runner.invoke(app, ["anatomy", "pack", "--dataset", str(ring_dataset), "--out",
                              str(ring_dataset / "inside.npz")])
    assert res.exit_code == 2 and not (ring_dataset / "inside.npz").exists()
