"""Baseline training and prediction follow the output rules of the cascade's commands (issue 19): inputs
checked first in one line, no output that is or holds an input, one writer per folder, ``overwrite`` and
``resume`` touching only what pscgan wrote, and a prediction that resumes."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from pscgan.baselines import predict_baseline, train_baseline
from pscgan.errors import ConfigError, InputError, OutputError, OutputExistsError, PscganError
from pscgan.io.lock import LOCK_FILE, LockedError

TINY = {"steps": 1, "seed": 0, "device": "cpu", "preset": "tiny"}


def _snapshot(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def dataset(tiny_ring_dataset, tmp_path):
    """A private copy of the tiny dataset (outputs are placed in and above it)."""
    ds = tmp_path / "ds"
    shutil.copytree(tiny_ring_dataset, ds, ignore=shutil.ignore_patterns(".pscgan-cache"))
    return ds


def _another_host(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_FILE).write_text(json.dumps({"pid": 1, "host": "another-host.example", "command": "x"}))


def test_training_outputs_that_are_inputs_or_locked_are_refused(dataset, baseline_split, tmp_path,
                                                                 fuzz_cases):
    before = _snapshot(tmp_path)
    for run in (dataset, tmp_path, dataset / "ring_00" / "run"):
        with fuzz_cases.watchdog("train_baseline"), pytest.raises(OutputError, match="input"):
            train_baseline("monai_unet", dataset, run, split=baseline_split, **TINY)
    assert _snapshot(tmp_path) == before
    _another_host(tmp_path / "locked")
    with fuzz_cases.watchdog("train_baseline"), pytest.raises(LockedError, match="another-host.example"):
        train_baseline("monai_unet", dataset, tmp_path / "locked", split=baseline_split, **TINY)


def test_training_never_overwrites_a_users_folder(dataset, baseline_split, tmp_path, fuzz_cases):
    own = tmp_path / "thesis"
    own.mkdir()
    (own / "config.json").write_text('{"mine": true}')  # even one holding a file of a run's name
    (own / "chapter.tex").write_text("precious")
    before = _snapshot(own)
    for overwrite in (False, True):
        with fuzz_cases.watchdog("train_baseline"), pytest.raises(OutputExistsError):
            train_baseline("monai_unet", dataset, own, split=baseline_split, overwrite=overwrite, **TINY)
    assert _snapshot(own) == before


@pytest.mark.parametrize("case", ["missing", "unknown-subject", "no-labels", "manifest-escape"])
def test_training_inputs_are_checked_first_in_one_line(dataset, baseline_split, tmp_path, case, fuzz_cases):
    kind, data, split = "monai_unet", dataset, baseline_split
    if case == "missing":
        data = tmp_path / "nowhere"
    elif case == "unknown-subject":
        split = {**baseline_split, "validation": ["ring_99"]}
    elif case == "no-labels":
        for folder in dataset.glob("ring_*"):
            (folder / "labels.nii.gz").unlink()
    else:
        (dataset / "dataset.json").write_text(json.dumps({"name": "x", "subjects": ["../escape"]}))
    with fuzz_cases.watchdog("train_baseline"), pytest.raises(PscganError) as err:
        train_baseline(kind, data, tmp_path / "run", split=split, **TINY)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "run").exists()  # refused before the run folder was made


def test_a_run_folder_with_a_corrupt_plan_is_one_line(trained_baselines, tmp_path, tiny_ring_dataset,
                                                      baseline_split):
    run = tmp_path / "run"
    shutil.copytree(trained_baselines["monai_unet"].parent, run)
    (run / "split.json").write_text("[" * 100_000)
    with pytest.raises(InputError, match="split.json"):
        train_baseline("monai_unet", tiny_ring_dataset, run, split=baseline_split, **{**TINY, "steps": 3})


def test_prediction_outputs_that_are_inputs_are_refused_and_change_nothing(trained_baselines, dataset,
                                                                           tmp_path, fuzz_cases):
    weights = tmp_path / "w" / "model.safetensors"
    weights.parent.mkdir()
    shutil.copy(trained_baselines["monai_unet"], weights)
    before = _snapshot(tmp_path)
    for out in (dataset, tmp_path, dataset / "ring_00", weights, weights.parent):
        with fuzz_cases.watchdog("predict_baseline"), pytest.raises(OutputError):
            predict_baseline(weights, dataset, out, overwrite=True)
    with fuzz_cases.watchdog("predict_baseline"), pytest.raises(InputError, match="not found"):
        predict_baseline(tmp_path / "none.safetensors", dataset, tmp_path / "pred")
    assert _snapshot(tmp_path) == before


def test_prediction_never_deletes_a_users_files(trained_baselines, tiny_ring_dataset, tmp_path, fuzz_cases):
    own = tmp_path / "own"
    own.mkdir()
    (own / ".draft.tmp").write_text("mine")
    (own / ".ring_04.partial").mkdir()
    (own / "notes.txt").write_text("mine")
    before = _snapshot(own)
    for flags in ({"overwrite": True}, {"resume": True}, {}):
        with fuzz_cases.watchdog("predict_baseline"), pytest.raises(OutputExistsError):
            predict_baseline(trained_baselines["monai_unet"], tiny_ring_dataset, own, **flags)
    _another_host(tmp_path / "locked")
    with pytest.raises(LockedError):
        predict_baseline(trained_baselines["monai_unet"], tiny_ring_dataset, tmp_path / "locked")
    with pytest.raises(ConfigError, match="exclude"):
        predict_baseline(trained_baselines["monai_unet"], tiny_ring_dataset, own, overwrite=True, resume=True)
    assert _snapshot(own) == before


def test_a_killed_prediction_resumes_keeping_its_finished_subjects(
    trained_baselines, baseline_predictions, tiny_ring_dataset, baseline_split, tmp_path
):
    out = tmp_path / "pred"
    shutil.copytree(baseline_predictions["monai_unet"], out)
    first, second = baseline_split["test"]
    kept = _snapshot(out / first)
    shutil.rmtree(out / second)  # as a kill leaves it: one subject done, the other staged
    (out / f".{second}.partial").mkdir()
    (out / ".summary.abc.pscgan-tmp.json").write_text("{")
    summary = predict_baseline(trained_baselines["monai_unet"], tiny_ring_dataset, out, resume=True)
    assert summary["kept_from_before"] == [first] and summary["predicted"] == [second]
    assert summary["subjects"] == baseline_split["test"] and summary["failures"] == []
    assert _snapshot(out / first) == kept
    assert not (out / f".{second}.partial").exists() and not (out / ".summary.abc.pscgan-tmp.json").exists()
    with pytest.raises(ConfigError, match="predicted with"):  # never two models in one folder
        predict_baseline(trained_baselines["scar_unet3d"], tiny_ring_dataset, out, resume=True)


def test_an_edited_checkpoint_state_is_refused_on_resume(tiny_ring_dataset, baseline_split, tmp_path,
                                                         fuzz_cases):
    """state.json edited with its checksum recomputed: each value type-checks, none fits the run."""
    from pscgan.training.checkpoint import _meta_digest, latest_checkpoint

    args = {**TINY, "steps": 3, "split": baseline_split}
    stopped = tmp_path / "stopped"
    train_baseline("pix2pix", tiny_ring_dataset, stopped, stop_after=2, **args)

    def edit(node, keys, value):  # noqa: ANN001, ANN202 - a tree_codec skeleton
        for i, key in enumerate(keys):
            pair = next(p for p in node["__dict__"] if p[0] == key)
            if i == len(keys) - 1:
                pair[1] = value
            node = pair[1]

    cases = {"step": (("train", "step"), 1, "holds the state of step 1"),
             "step-text": (("train", "step"), "2", "not an integer"),
             "stream": (("stream", "position"), 0, "batch stream"),
             "best": (("train", "best", "step"), 2 + 1, "step of the best score"),
             "optimizers": (("optimizers",), {"__dict__": []}, "does not fit this run"),
             # what the shared loop restores besides (divergence record, log window), and the split
             "lr-scale": (("train", "divergence", "lr_scale"), 0.5, "learning-rate scale"),
             "log-window": (("train", "log_window", "counts"), {"__dict__": [["g_total", 1]]}, "log window"),
             "split": (("split_sha256",), "0" * 64, "differs from the split")}
    for name, (keys, value, message) in cases.items():
        run = tmp_path / name
        shutil.copytree(stopped, run)
        path = latest_checkpoint(run) / "state.json"
        meta = json.loads(path.read_text())
        edit(meta["state"], keys, value)
        meta["meta_sha256"] = _meta_digest(meta)
        path.write_text(json.dumps(meta))
        with fuzz_cases.watchdog("train_baseline"), pytest.raises(InputError, match=message) as err:
            train_baseline("pix2pix", tiny_ring_dataset, run, **args)
        assert "state.json" in str(err.value)
