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
        (run / "done.json").write_text(json.dumps({"seed": 0, "metrics": {"dice_overall": 0.5},
                                                                 "subjects": {}}))
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
    (baseline / "done.json").write_text(json.dumps({"seed": 0, "baseline": "monai_unet", "metrics": {},
                                                           "subjects": {}}))
    assert (
        find_reusable_run([tmp_path / "exp6"], data, SPLIT, _config()) == tmp_path / "exp6" / "full" / "seed0"
    )


def test_an_unfinished_run_is_never_reused(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    run = _fake_experiment(tmp_path / "exp5", data, finished=False)
    assert find_reusable_run([tmp_path / "exp5"], data, SPLIT, _config()) is None
    with pytest.raises(InputError, match="has not finished"):
        adopt_run(run, tmp_path / "dest")


def test_a_folder_that_is_not_an_experiment_is_refused_by_name(tmp_path):
    with pytest.raises(InputError, match="neither an experiment folder") as err:
        find_reusable_run([tmp_path], tmp_path, SPLIT, _config())
    assert str(tmp_path) in str(err.value)


def _fake_training_run(folder, data, *, config=None, weights=True):
    """A pscgan train run folder, as far as reuse looks."""
    folder.mkdir(parents=True)
    (config or _config()).save(folder / "config.json")
    (folder / "split.json").write_text(json.dumps({"dataset": str(data), **SPLIT}))
    (folder / "train.log").write_text(
        "2026-01-01 10:00:00,000 INFO run R: 2 training and 1 validation slices, world size 1, device cpu\n"
        "2026-01-01 10:00:42,000 INFO final weights written\n"
    )
    if weights:
        (folder / "model.safetensors").write_bytes(b"w")
    return folder


def test_a_finished_training_run_is_a_source_whatever_preset_name_it_started_from(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    renamed = _config().model_copy(update={"preset": "cpu+overrides"})  # same training, other origin name
    run = _fake_training_run(tmp_path / "run", data, config=renamed)
    assert find_reusable_run([run], data, SPLIT, _config()) == run
    assert find_reusable_run([run], data, SPLIT, _config(**{"train.seed": 1})) is None
    unfinished = _fake_training_run(tmp_path / "unfinished", data, weights=False)
    with pytest.raises(InputError, match="without final weights") as err:
        find_reusable_run([unfinished], data, SPLIT, _config())
    assert str(unfinished) in str(err.value)


def test_an_adopted_training_run_brings_its_training_time_and_waits_for_evaluation(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    run = _fake_training_run(tmp_path / "run", data)
    dest = tmp_path / "exp3" / "full" / "seed0"
    assert adopt_run(run, dest) is None  # not finished: prediction and evaluation are still to do
    assert (dest / "train" / "model.safetensors").read_bytes() == b"w"
    assert json.loads((dest / "timing.json").read_text()) == {"training_seconds": 42.0, "sessions": 1}
    assert json.loads((dest / "adopted.json").read_text()) == {"reused_from": str(run.resolve())}
    assert not (dest / "done.json").exists()


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


def test_an_experiment_adopts_a_training_run_and_only_predicts_and_evaluates_it(
    tiny_ring_dataset, tmp_path, monkeypatch
):
    from pscgan.cli.main import app

    first = ExperimentOptions(ExperimentTable.TABLE5, tiny_ring_dataset, tmp_path / "t5", preset="tiny",
                              budget=Budget(BudgetKind.STEPS, 1), seeds=1, variants=["full"])
    run_experiment(first)
    trained = tmp_path / "t5" / "full" / "seed0" / "train"  # a pscgan train run folder

    import pscgan.training.launch

    def forbidden(*a, **k):
        raise AssertionError("the adopted training run was trained again")

    monkeypatch.setattr(pscgan.training.launch, "run_training", forbidden)
    out = tmp_path / "t3"
    args = ["experiment", "table3", "--data", str(tiny_ring_dataset), "--out", str(out), "--preset", "tiny",
            "--budget-steps", "1", "--seeds", "1", "--variants", "full", "--reuse-from", str(trained)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "full seed 0: reused" in res.output and "full seed 0: start" not in res.output
    done = json.loads((out / "full" / "seed0" / "done.json").read_text())
    source = json.loads((tmp_path / "t5" / "full" / "seed0" / "done.json").read_text())
    assert done["reused_from"] == str(trained.resolve())
    assert done["metrics"] == source["metrics"]  # predicted and evaluated again, to the same numbers
    assert done["training_seconds"] > 0 and done["steps_trained"] == source["steps_trained"]
    table = json.loads((out / "table3.json").read_text())
    assert table["rows"][0]["reused_from"] == [done["reused_from"]]
