"""End to end with the tiny preset: variants x seeds train, predict, evaluate, tabulate and resume."""

from __future__ import annotations

import json

import pytest

from pscgan.config.schema import apply_overrides
from pscgan.data.layout import read_manifest
from pscgan.errors import ConfigError
from pscgan.experiments.budget import Budget, BudgetKind
from pscgan.experiments.metrics import run_metrics
from pscgan.experiments.runner import ExperimentOptions, run_experiment
from pscgan.experiments.variants import ExperimentTable


def _opts(data, out, **kw):
    base = dict(
        table=ExperimentTable.TABLE3,
        data=data,
        out=out,
        preset="tiny",
        budget=Budget(BudgetKind.STEPS, 1),
        seeds=2,
        variants=["full", "progressive_off"],
    )
    return ExperimentOptions(**(base | kw))


def test_two_variants_two_seeds_end_to_end(tiny_ring_dataset, tmp_path, monkeypatch):
    # One test on purpose: the runs are the expensive part, and a shared fixture would be rebuilt by
    # every pytest-xdist worker that gets one of its tests.
    out = tmp_path / "table3"
    events = []
    result = run_experiment(_opts(tiny_ring_dataset, out), on_run=lambda *e: events.append(e))
    assert [e[2] for e in events] == ["start", "done"] * 4
    _check_runs(out, tiny_ring_dataset)
    _check_table(out, result)
    _check_repeat_retrains_nothing(out, tiny_ring_dataset, monkeypatch)
    with pytest.raises(ConfigError, match="seeds: 2 before, 3 now"):
        run_experiment(_opts(tiny_ring_dataset, out, seeds=3))


def _check_runs(out, data):
    test_subjects = read_manifest(data).split["test"]
    splits = []
    for variant in ("full", "progressive_off"):
        for seed in (0, 1):
            run = out / variant / f"seed{seed}"
            done = json.loads((run / "done.json").read_text())
            evaluation = json.loads((run / "evaluation" / "evaluation.json").read_text())
            assert done["metrics"] == run_metrics(evaluation)
            assert sorted(done["subjects"]) == sorted(test_subjects) == done["test_subjects"]
            assert json.loads((run / "train" / "config.json").read_text())["train"]["seed"] == seed
            split = json.loads((run / "train" / "split.json").read_text())
            splits.append({k: split[k] for k in ("train", "validation", "test")})
    assert all(s == splits[0] for s in splits)  # same data for every variant and seed
    plan = json.loads((out / "plan.json").read_text())
    assert (
        plan["steps_per_phase"] == {"full": 1, "progressive_off": 3} and (out / "environment.json").is_file()
    )
    # one joint phase gets the three phases' generator steps, so both train as many in total
    joint = json.loads((out / "progressive_off" / "seed0" / "train" / "config.json").read_text())
    assert joint["train"]["steps_per_phase"] == 3


def _check_table(out, result):
    assert [r["name"] for r in result["rows"]] == ["full", "progressive_off"] and not result["complete"]
    other = result["rows"][1]
    assert other["tests"]["dice_overall"]["n"] == 2 * len(result["test_subjects"])
    assert len(other["metrics"]["dice_overall"]["values"]) == 2
    md = (out / "table3.md").read_text()
    assert "| PSCGAN | 2 |" in md and "Progressive training removed" in md and "Wilcoxon" in md
    assert "p=" in md or "not defined" in md
    assert json.loads((out / "table3.json").read_text())["rows"][0]["name"] == "full"
    assert (out / "table3.csv").read_text().startswith("variant,label,metric,mean,sd")


def _check_repeat_retrains_nothing(out, data, monkeypatch):
    import pscgan.evaluation.evaluate
    import pscgan.inference.batch
    import pscgan.training.launch

    def forbidden(*a, **k):
        raise AssertionError("a finished run was redone")

    for module, name in (
        (pscgan.training.launch, "run_training"),
        (pscgan.inference.batch, "predict_batch"),
        (pscgan.evaluation.evaluate, "evaluate"),
    ):
        monkeypatch.setattr(module, name, forbidden)
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/seed*/done.json")}
    events = []
    run_experiment(_opts(data, out), on_run=lambda *e: events.append(e))
    assert [e[2] for e in events] == ["skipped"] * 4
    assert stamps == {p: p.stat().st_mtime_ns for p in out.glob("*/seed*/done.json")}
    monkeypatch.undo()


def test_interrupted_run_resumes_with_the_calibrated_steps(tiny_ring_dataset, tmp_path, monkeypatch):
    import pscgan.experiments.runner as runner

    calls = []

    def fake_calibrate(config, **kw):
        calls.append(config)
        return {
            "seconds_per_iteration": {"coarse": 20.0, "synthesis": 20.0, "segmentation": 20.0},
            "seconds_per_step_all_phases": 60.0,
            "iterations": 1,
            "load_average_1min": 5.0,
            "cpu_count": 2,
        }

    monkeypatch.setattr(runner, "calibrate", fake_calibrate)
    opts = _opts(
        tiny_ring_dataset,
        tmp_path / "exp",
        table=ExperimentTable.TABLE5,
        seeds=1,
        variants=["full"],
        budget=Budget(BudgetKind.MINUTES, 2.0),
    )
    opts.stop_after = 1
    first = run_experiment(opts)
    run = tmp_path / "exp" / "full" / "seed0"
    assert not first["complete"] and not first["rows"] and not (run / "done.json").exists()
    assert (run / "train" / "checkpoints").is_dir() and not (run / "train" / "model.safetensors").exists()
    opts.stop_after = None
    second = run_experiment(opts)
    assert len(calls) == 1  # calibrated once, then read back from plan.json
    plan = json.loads((tmp_path / "exp" / "plan.json").read_text())
    assert (
        plan["steps_per_phase"] == {"full": 2}
        and plan["calibration"]["full"]["seconds_per_step_all_phases"] == 60
    )
    steps = [json.loads(x)["step"] for x in (run / "train" / "metrics.jsonl").read_text().splitlines()]
    assert max(steps) == 6 and second["rows"][0]["seeds"] == [0]
    assert json.loads((run / "timing.json").read_text())["sessions"] == 2
    # the calibration ran on a busy machine (load 5 on 2 CPUs): the table says so
    assert "calibrated while the machine was busy (1-minute load average up to 5 on 2 CPUs)" in (
        tmp_path / "exp" / "table5.md").read_text()


def test_table6_trains_real_baselines_with_the_same_split_and_step_budget(tiny_ring_dataset, tmp_path):
    result = run_experiment(
        _opts(
            tiny_ring_dataset,
            tmp_path / "t6",
            table=ExperimentTable.TABLE6,
            seeds=1,
            variants=["full", "pix2pix", "scar_unet3d"],
        )
    )
    names = [r["name"] for r in result["rows"]]
    assert names[:1] == ["full"] and {"pix2pix", "scar_unet3d"} <= set(names)
    test = read_manifest(tiny_ring_dataset).split["test"]
    for kind in ("pix2pix", "scar_unet3d"):
        run = tmp_path / "t6" / kind / "seed0" / "train"
        plan = json.loads((run / "split.json").read_text())
        assert sorted(plan["test"]) == sorted(test)
        steps = [json.loads(x).get("step") for x in (run / "metrics.jsonl").read_text().splitlines()]
        assert max(s for s in steps if s is not None) == 3  # as many steps as the 3-phase reference in total
    rows = {r["name"]: r for r in result["rows"]}
    # the baselines' training time per step is measured like PSCGAN's
    assert all(rows[k]["seconds_per_step"] > 0 for k in ("full", "pix2pix", "scar_unet3d"))
    # pix2pix synthesises only: its segmentation metrics are not defined, never 0 or NaN
    assert rows["pix2pix"]["tests"]["dice_overall"]["n"] == 0


def test_baselines_follow_the_experiment_s_data_protocol_and_threads(tiny_ring_dataset, tmp_path):
    """``--set train.register_lge=false`` and ``--set train.num_threads=1`` reach the baselines too:
    every variant of the table trains on the same targets with the same CPU threads."""
    run_experiment(_opts(tiny_ring_dataset, tmp_path / "t6", table=ExperimentTable.TABLE6, seeds=1,
                         variants=["full", "monai_unet"],
                         overrides=["train.register_lge=false", "train.num_threads=1"]))
    full = json.loads((tmp_path / "t6" / "full" / "seed0" / "train" / "config.json").read_text())
    baseline = tmp_path / "t6" / "monai_unet" / "seed0" / "train"
    assert full["train"]["register_lge"] is False
    assert json.loads((baseline / "config.json").read_text())["config"]["register_lge"] is False
    assert json.loads((baseline / "environment.json").read_text())["torch_threads"] == 1


def test_a_continued_experiment_keeps_the_configuration_it_started_with(
    tiny_ring_dataset, tmp_path, monkeypatch
):
    from pscgan.config import presets

    out = tmp_path / "exp"
    opts = _opts(tiny_ring_dataset, out, table=ExperimentTable.TABLE5, seeds=1, variants=["full"])
    run_experiment(opts)
    started_lr = json.loads((out / "full" / "seed0" / "train" / "config.json").read_text())["train"]["lr"]
    plan = json.loads((out / "plan.json").read_text())
    assert plan["base_config"]["train"]["lr"] == started_lr
    # a later pscgan version changes the preset: the experiment still trains what it started with
    original = presets.get_preset
    monkeypatch.setattr(presets, "get_preset", lambda name: apply_overrides(original(name), ["train.lr=0.5"]))
    run_experiment(
        _opts(tiny_ring_dataset, out, table=ExperimentTable.TABLE5, seeds=1, variants=["auxiliary_off"])
    )
    trained = json.loads((out / "auxiliary_off" / "seed0" / "train" / "config.json").read_text())
    assert trained["train"]["lr"] == started_lr and trained["loss"]["auxiliary"] is False
    # a plan of version 1, which did not record the configuration, is checked against its reference run
    del plan["base_config"]
    plan["version"] = 1
    (out / "plan.json").write_text(json.dumps(plan))
    with pytest.raises(ConfigError, match="presets changed since the experiment started"):
        run_experiment(opts)
    monkeypatch.setattr(presets, "get_preset", original)
    run_experiment(opts)
    assert json.loads((out / "plan.json").read_text())["base_config"]["train"]["lr"] == started_lr


def test_a_baseline_prediction_resumes_and_a_failed_test_subject_stops_the_run(tiny_ring_dataset, tmp_path,
                                                                                monkeypatch):
    """A killed baseline prediction is continued (not refused, not redone); a test subject the baseline
    cannot predict ends the run with one line instead of a table scored on fewer subjects."""
    import shutil

    import pscgan.baselines.predict as baseline_predict
    from pscgan.errors import InputError
    from pscgan.experiments.run import DONE_FILE, RunSpec, execute_run

    parts = read_manifest(tiny_ring_dataset).split
    train = sorted(parts["train"])
    split = {"train": train[1:], "validation": train[:1], "test": sorted(parts["test"])}
    spec = RunSpec(tmp_path / "run", tiny_ring_dataset, split, baseline="monai_unet", preset="tiny")
    assert execute_run(spec)["test_subjects"] == split["test"]
    pred, (first, second) = spec.folder / "prediction", split["test"]
    (spec.folder / DONE_FILE).unlink()
    shutil.rmtree(pred / second)
    assert execute_run(spec) is not None
    summary = json.loads((pred / "summary.json").read_text())
    assert summary["kept_from_before"] == [first] and summary["predicted"] == [second]

    (spec.folder / DONE_FILE).unlink()
    shutil.rmtree(pred / second)
    real = baseline_predict.prepare_input

    def failing(item, options):  # noqa: ANN001, ANN202
        if item.source.name == second:
            raise InputError(item.source.path, "unreadable cine")
        return real(item, options)

    monkeypatch.setattr(baseline_predict, "prepare_input", failing)
    with pytest.raises(InputError, match=f"1 test subject.s. could not be predicted, first {second}"):
        execute_run(spec)
    assert not (spec.folder / DONE_FILE).exists()
