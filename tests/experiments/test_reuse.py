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

from ..json_mutations import MISSING, fields, mutated, value_at

SPLIT = {"train": ["a", "b"], "validation": ["c"], "test": ["d", "e"]}


PLAN = {"format": "pscgan-experiment-plan", "version": 2, "base_config": None,
        "request": {"kind": "experiment", "table": "table5", "data": "data", "preset": "tiny",
                    "overrides": [], "seeds": 1, "budget": None, "validation_fraction": 0.1},
        "split": SPLIT, "seed_values": [0], "calibration": {}, "steps_per_phase": {"full": 3},
        "variants": [{"name": "full", "label": "PSCGAN", "overrides": [], "baseline": None, "note": ""}]}


def _weights(path, config) -> None:  # noqa: ANN001
    """Final weights of ``config`` (untrained: reuse reads only the configuration they carry)."""
    from pscgan.models.factory import build_cascade
    from pscgan.models.weights import save_weights

    save_weights(path, build_cascade(config), config)


def _config(**changes):
    cfg = apply_overrides(get_preset("tiny"), ["train.seed=0", "train.steps_per_phase=3"])
    return apply_overrides(cfg, [f"{k}={v}" for k, v in changes.items()])


def _fake_experiment(root, data, *, config=None, split=SPLIT, finished=True):
    """An experiment folder with one PSCGAN run, as far as reuse looks (no weights needed)."""
    root.mkdir(parents=True)
    (root / "plan.json").write_text(json.dumps(PLAN))
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
        _weights(folder / "model.safetensors", config or _config())
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
    assert (dest / "train" / "model.safetensors").read_bytes() == (run / "model.safetensors").read_bytes()
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


# --reuse-from sources and adoption records as hostile input (issue 19) ------------------------------------

MUTATIONS = [float("nan"), float("inf"), 1e308, 10**40, -7, "x", None, [], {}, True, 1, "1", MISSING]


def _reuse_cleanly(fuzz_cases, sources, data, names):  # noqa: ANN001, ANN202
    """``find_reusable_run``: a run, None, or one InputError naming a file or folder in ``names``."""
    from pscgan.errors import PscganError

    with fuzz_cases.watchdog("reuse"):
        try:
            return find_reusable_run(sources, data, SPLIT, _config())
        except PscganError as exc:
            assert "\n" not in str(exc) and any(str(n) in str(exc) for n in names), str(exc)
            return MISSING


def test_every_field_of_a_reused_runs_configuration(tmp_path, fuzz_cases):
    """Each field of a training run's config.json set to NaN, inf, 1e308, 10**40, -7, text, null, an array,
    an object, true, 1 or "1", or removed: the run is adopted only when its configuration is exactly the
    one wanted, else passed over or refused in one line naming config.json; a removed field (which would
    read as today's default) and a value of another type are always refused, never adopted."""
    data = tmp_path / "data"
    data.mkdir()
    run = _fake_training_run(tmp_path / "run", data)
    target = run / "config.json"
    original = json.loads(target.read_text())
    n = 0
    for path in list(fields(original)):
        node = value_at(original, path)
        for mutation in MUTATIONS:
            edited = mutated(original, path, mutation)
            if edited is None or edited == original:
                continue
            target.write_text(json.dumps(edited))
            found = _reuse_cleanly(fuzz_cases, [run], data, [target])
            # only the name of the preset it started from may differ in a run that is adopted
            assert found is not run or path == ("preset",), (path, mutation)
            wrong_type = mutation is MISSING or (mutation is True and type(node) is not bool) or (
                isinstance(mutation, str) and not isinstance(node, str)) or mutation in ([], {}) or (
                isinstance(mutation, float) and not abs(mutation) < 1e12)
            assert found is MISSING or not wrong_type, (path, mutation, found)
            n += 1
    assert n > 500


def test_a_configuration_edited_to_match_is_not_what_the_weights_trained(tmp_path, fuzz_cases):
    """config.json edited into the configuration wanted, while the final weights carry (under their
    checksum) the one the run really trained: refused in one line naming the field, never adopted."""
    data = tmp_path / "data"
    data.mkdir()
    run = _fake_training_run(tmp_path / "run", data, config=_config(**{"train.seed": 7}))
    _config().save(run / "config.json")
    assert _reuse_cleanly(fuzz_cases, [run], data, [run / "config.json"]) is MISSING
    with pytest.raises(InputError, match=r"field train\.seed is not what model\.safetensors was trained"):
        find_reusable_run([run], data, SPLIT, _config())
    for content in (b"w", b"\x00" * 100, b"{}"):  # weights that are no weights: one line naming them
        (run / "model.safetensors").write_bytes(content)
        assert _reuse_cleanly(fuzz_cases, [run], data, [run / "model.safetensors"]) is MISSING


SPLITS = {"not-json": "{", "deep": "[" * 100_000 + "]" * 100_000, "array": "[]", "bytes": b"\xff\xfe{",
          "dataset-number": {"dataset": 5}, "dataset-nul": {"dataset": "da\x00ta"},
          "dataset-long": {"dataset": "d" * 100_000}, "train-text": {"train": "a"},
          "train-numbers": {"train": [1, 2]}, "no-validation": {"validation": None}}


@pytest.mark.parametrize("case", list(SPLITS))
def test_hostile_split_of_a_reused_run(tmp_path, case, fuzz_cases):
    """A training run's split.json that is not one ends in one line naming it, or the run is passed over
    (a dataset named so is not this one); never adopted, never a traceback."""
    data = tmp_path / "data"
    data.mkdir()
    run = _fake_training_run(tmp_path / "run", data)
    target = run / "split.json"
    content = SPLITS[case]
    if isinstance(content, dict):
        content = json.dumps({"dataset": str(data), **SPLIT, **content})
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content)
    assert _reuse_cleanly(fuzz_cases, [run], data, [target]) in (None, MISSING)


PLANS = {"empty": "{}", "array": "[]", "deep": "[" * 100_000 + "]" * 100_000, "bytes": b"\xff\xfe{",
         "cv": {**PLAN, "request": {**PLAN["request"], "kind": "cv"}},
         "split-text": {**PLAN, "split": "all"}, "seeds-negative": {**PLAN, "seed_values": [-1]}}


@pytest.mark.parametrize("case", list(PLANS))
def test_hostile_plan_of_a_reused_experiment(tmp_path, case, fuzz_cases):
    """An experiment folder given to --reuse-from is judged by its plan.json: one that is damaged, or a
    cross-validation's, is one line naming it (or the folder)."""
    data = tmp_path / "data"
    data.mkdir()
    _fake_experiment(tmp_path / "exp", data)
    target = tmp_path / "exp" / "plan.json"
    content = PLANS[case]
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content if isinstance(content, str) else json.dumps(content))
    assert _reuse_cleanly(fuzz_cases, [tmp_path / "exp"], data, [target, tmp_path / "exp"]) is MISSING


@pytest.mark.parametrize("case", ["link-out", "link-loop", "fifo"])
def test_a_run_holding_links_or_special_files_is_not_copied(tmp_path, case, fuzz_cases):
    """Adoption copies a run whole: a symbolic link (which would bring a file from outside the run, or
    loop) or a FIFO (which would block the copy) in it is refused in one line naming it, nothing copied."""
    import os

    data = tmp_path / "data"
    data.mkdir()
    run = _fake_training_run(tmp_path / "run", data)
    (tmp_path / "secret.txt").write_text("not the run's")
    entry = run / "checkpoints" / "odd"
    entry.parent.mkdir()
    if case == "link-out":
        entry.symlink_to(tmp_path / "secret.txt")
    elif case == "link-loop":
        entry.symlink_to(entry)
    else:
        os.mkfifo(entry)
    dest = tmp_path / "exp" / "full" / "seed0"
    with fuzz_cases.watchdog("adopt"), pytest.raises(InputError) as err:
        adopt_run(run, dest)
    assert str(entry) in str(err.value) and "\n" not in str(err.value)
    assert not dest.exists() and not (dest.parent / ".seed0.reusing").exists()


@pytest.mark.parametrize("case", ["not-utf8", "backwards", "empty"])
def test_the_training_log_of_an_adopted_run(tmp_path, case, fuzz_cases):
    """The training time of an adopted run comes from its train.log: bytes that are not UTF-8 in a message
    do not matter; time stamps that go backwards are one line naming the log, never a negative time."""
    data = tmp_path / "data"
    data.mkdir()
    run = _fake_training_run(tmp_path / "run", data)
    log = run / "train.log"
    if case == "not-utf8":
        log.write_bytes(log.read_bytes() + b"2026-01-01 10:00:50,000 WARNING \xff\xfe odd\n")
    elif case == "backwards":
        log.write_text("2026-01-01 10:00:00,000 INFO run R: start\n2026-01-01 09:00:00,000 INFO done\n")
    else:
        log.write_text("")
    dest = tmp_path / "exp" / "full" / "seed0"
    with fuzz_cases.watchdog("adopt"):
        if case == "backwards":
            with pytest.raises(InputError, match="time stamps go backwards") as err:
                adopt_run(run, dest)
            assert str(log) in str(err.value)
            return
        adopt_run(run, dest)
    timing = json.loads((dest / "timing.json").read_text())
    assert timing["training_seconds"] == (50.0 if case == "not-utf8" else 0.0)


ADOPTED = {"number": {"reused_from": 5}, "null": {"reused_from": None}, "missing": {},
           "relative": {"reused_from": "runs/r"}, "control": {"reused_from": "/runs/r\n"},
           "long": {"reused_from": "/" + "r" * 5000}, "array": [], "deep": "[" * 100_000 + "]" * 100_000,
           "bytes": b"\xff\xfe{", "not-json": "{", "folder": None}


@pytest.mark.parametrize("case", list(ADOPTED))
def test_hostile_adoption_records(tmp_path, case, fuzz_cases):
    """A run's adopted.json (which its done.json and table repeat) that does not name an absolute run folder
    is one line naming it and the field; a good one is read back as written."""
    from pscgan.errors import PscganError
    from pscgan.experiments.run import reused_from

    target = tmp_path / "adopted.json"
    content = ADOPTED[case]
    if case == "folder":
        target.mkdir()
    elif isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content if isinstance(content, str) else json.dumps(content))
    with fuzz_cases.watchdog("adopted.json"), pytest.raises(PscganError) as err:
        reused_from(tmp_path)
    assert str(target) in str(err.value) and "\n" not in str(err.value)
    target.unlink() if target.is_file() else target.rmdir()
    assert reused_from(tmp_path) is None
    target.write_text(json.dumps({"reused_from": "/runs/r"}))
    assert reused_from(tmp_path) == "/runs/r"
