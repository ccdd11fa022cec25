"""Adopting identical finished runs of an earlier experiment instead of training them again."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pscgan.config.presets import get_preset
from pscgan.config.schema import apply_overrides
from pscgan.errors import InputError
from pscgan.experiments.budget import Budget, BudgetKind
from pscgan.experiments.reuse import adopt_run, find_reusable_run
from pscgan.experiments.runner import ExperimentOptions, run_experiment
from pscgan.experiments.variants import ExperimentTable

SPLIT = {"train": ["a", "b"], "validation": ["c"], "test": ["d", "e"]}


def _config(**changes):
    cfg = apply_overrides(get_preset("tiny"), ["train.seed=0", "train.steps_per_phase=3"])
    return apply_overrides(cfg, [f"{k}={v}" for k, v in changes.items()])


def _fake_experiment(root, data, *, config=None, split=SPLIT, finished=True):
    """An experiment folder with one PSCGAN run, as far as reuse looks (no weights needed)."""
    root.mkdir(parents=True)
    (root / "plan.json").write_text("{}")
    run = root / "full" / "seed0"
    (run / "train").mkdir(parents=True)
    (config or _config()).save(run / "train" / "config.json")
    (run / "train" / "split.json").write_text(json.dumps({"dataset": str(data), **split}))
    (run / "prediction").mkdir()
    (run / "prediction" / "d.nii.gz").write_bytes(b"x")
    if finished:
        (run / "done.json").write_text(json.dumps({"seed": 0, "metrics": {"dice_overall": 0.5}}))
    return run


def test_a_run_is_reused_only_when_configuration_data_and_split_all_match(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    run = _fake_experiment(tmp_path / "exp5", data)
    sources = [tmp_path / "exp5"]
    assert find_reusable_run(sources, data, SPLIT, _config()) == run
    assert find_reusable_run(sources, data, SPLIT, _config(**{"train.seed": 1})) is None
    assert find_reusable_run(sources, data, SPLIT, _config(**{"loss.auxiliary": "false"})) is None
    assert find_reusable_run(sources, data, {**SPLIT, "test": ["d"]}, _config()) is None
    other = tmp_path / "other"
    other.mkdir()
    assert find_reusable_run(sources, other, SPLIT, _config()) is None


def test_baseline_runs_are_passed_over(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _fake_experiment(tmp_path / "exp6", data)
    baseline = tmp_path / "exp6" / "baseline_unet" / "seed0"  # sorted before "full"
    (baseline / "train").mkdir(parents=True)
    (baseline / "train" / "config.json").write_text(json.dumps({"kind": "monai_unet", "config": {}}))
    (baseline / "train" / "split.json").write_text(json.dumps({"dataset": str(data), **SPLIT}))
    (baseline / "done.json").write_text(json.dumps({"seed": 0, "baseline": "monai_unet"}))
    assert find_reusable_run([tmp_path / "exp6"], data, SPLIT, _config()) == tmp_path / "exp6" / "full" / "seed0"


def test_an_unfinished_run_is_never_reused(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    run = _fake_experiment(tmp_path / "exp5", data, finished=False)
    assert find_reusable_run([tmp_path / "exp5"], data, SPLIT, _config()) is None
    with pytest.raises(InputError, match="has not finished"):
        adopt_run(run, tmp_path / "dest")


def test_a_folder_that_is_not_an_experiment_is_refused_by_name(tmp_path):
    with pytest.raises(InputError, match="not an experiment folder") as err:
        find_reusable_run([tmp_path], tmp_path, SPLIT, _config())
    assert str(tmp_path) in str(err.value)


def test_adoption_copies_the_whole_run_and_records_its_source(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    run = _fake_experiment(tmp_path / "exp5", data)
    dest = tmp_path / "exp4" / "full" / "seed0"
    # a copy interrupted earlier left its staging folder: it is replaced, never counted as a run
    (dest.parent / ".seed0.reusing").mkdir(parents=True)
    done = adopt_run(run, dest)
    assert done["reused_from"] == str(run.resolve()) and done["metrics"] == {"dice_overall": 0.5}
    assert json.loads((dest / "done.json").read_text()) == done
    assert (dest / "prediction" / "d.nii.gz").read_bytes() == b"x"
    assert not (dest.parent / ".seed0.reusing").exists()
    assert "reused_from" not in json.loads((run / "done.json").read_text())  # the source is untouched
    with pytest.raises(InputError, match="already exists"):
        adopt_run(run, dest)


def test_table4_adopts_the_full_runs_of_table5_without_training(tiny_ring_dataset, tmp_path, monkeypatch):
    from pscgan.cli.main import app

    first = ExperimentOptions(ExperimentTable.TABLE5, tiny_ring_dataset, tmp_path / "t5", preset="tiny",
                              budget=Budget(BudgetKind.STEPS, 1), seeds=1, variants=["full"])
    run_experiment(first)

    import pscgan.experiments.run

    def forbidden(*a, **k):
        raise AssertionError("an identical finished run was trained again")

    monkeypatch.setattr(pscgan.experiments.run, "execute_run", forbidden)
    monkeypatch.setattr("pscgan.experiments.runner.execute_run", forbidden)
    out = tmp_path / "t4"
    args = ["experiment", "table4", "--data", str(tiny_ring_dataset), "--out", str(out), "--preset", "tiny",
            "--budget-steps", "1", "--seeds", "1", "--variants", "full", "--reuse-from", str(tmp_path / "t5")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "full seed 0: reused" in res.output
    done = json.loads((out / "full" / "seed0" / "done.json").read_text())
    source = json.loads((tmp_path / "t5" / "full" / "seed0" / "done.json").read_text())
    assert done["reused_from"] == str((tmp_path / "t5" / "full" / "seed0").resolve())
    assert done["metrics"] == source["metrics"]
    table = json.loads((out / "table4.json").read_text())
    assert table["rows"][0]["reused_from"] == [done["reused_from"]]
    assert "not retrained" in (out / "table4.md").read_text()
    # a repeat finds the adopted run finished, like any other
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0 and "full seed 0: skipped" in res.output
