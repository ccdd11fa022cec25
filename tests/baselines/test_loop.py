"""Baselines train through the cascade's training loop: a stop anywhere resumes exactly, and a NaN step is
recovered by the cascade's rule (back to the last checkpoint, lower learning rate, event recorded)."""

from __future__ import annotations

import json

import pytest
import torch
from monai.losses import DiceCELoss
from safetensors.torch import load_file

import pscgan.baselines.train as train_module
from pscgan.baselines import train_baseline
from pscgan.training.checkpoint import load_checkpoint
from pscgan.training.divergence import DivergenceError

EVENT_KEYS = {"event", "step", "phase", "failed_step", "reason", "retry", "lr_scale", "lr"}  # the cascade's


@pytest.fixture
def intervals(monkeypatch):
    """The tiny baselines with records every 3 steps and checkpoints every 2 (the tiny preset does all
    three at every step), so a stop falls between checkpoints and inside a logging window."""
    original = train_module.baseline_config

    def spaced(*args, **kwargs):
        return original(*args, **kwargs).model_copy(
            update={"log_interval": 3, "checkpoint_interval": 2, "validation_interval": 2})

    monkeypatch.setattr(train_module, "baseline_config", spaced)


@pytest.fixture
def nan_at(monkeypatch):
    """``nan_at(calls)``: the Dice + cross-entropy loss is NaN at these (1-based) training calls."""
    original = DiceCELoss.forward
    seen = {"n": 0}

    def install(calls):
        seen["n"] = 0

        def poisoned(self, *args, **kwargs):
            loss = original(self, *args, **kwargs)
            seen["n"] += 1
            return loss * float("nan") if calls == "always" or seen["n"] in calls else loss

        monkeypatch.setattr(DiceCELoss, "forward", poisoned)

    return install


def _records(run):
    return [{k: v for k, v in json.loads(line).items() if k != "seconds_per_step"}
            for line in (run / "metrics.jsonl").read_text().splitlines()]


def _same_weights(a, b):
    a, b = load_file(str(a)), load_file(str(b))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def test_a_stop_between_checkpoints_and_inside_a_log_window_resumes_exactly(
        tiny_ring_dataset, baseline_split, tmp_path, intervals):
    args = {"steps": 7, "seed": 1, "device": "cpu", "split": baseline_split, "preset": "tiny",
            "deterministic": True}
    straight = train_baseline("monai_unet", tiny_ring_dataset, tmp_path / "straight", **args)
    part = tmp_path / "part"
    assert not train_baseline("monai_unet", tiny_ring_dataset, part, stop_after=4, **args).exists()
    assert not train_baseline("monai_unet", tiny_ring_dataset, part, stop_after=1, **args).exists()
    resumed = train_baseline("monai_unet", tiny_ring_dataset, part, **args)
    _same_weights(straight, resumed)
    records = _records(part)
    assert records == _records(tmp_path / "straight")
    # losses averaged over each window of 3 steps, validation every 2 steps and at the end
    assert [(r["step"], "loss_dice_ce" in r, "val_score" in r) for r in records] == [
        (2, False, True), (3, True, False), (4, False, True), (6, True, True), (7, True, True)]
    assert load_checkpoint(part / "checkpoints" / "best").state["step"] in (2, 4, 6, 7)


def test_a_nan_step_is_recovered_as_in_the_cascade_and_the_lower_rate_survives_a_resume(
        tiny_ring_dataset, baseline_split, tmp_path, nan_at):
    args = {"steps": 4, "seed": 0, "device": "cpu", "split": baseline_split, "preset": "tiny",
            "deterministic": True}
    nan_at({3})  # step 3: the tiny baselines checkpoint every step, so it goes back to step 2
    full = train_baseline("monai_unet", tiny_ring_dataset, tmp_path / "full", **args)
    records = _records(tmp_path / "full")
    events = [r for r in records if r.get("event") == "divergence"]
    assert [set(e) for e in events] == [EVENT_KEYS]
    assert [(e["phase"], e["failed_step"], e["step"], e["lr"], e["retry"]) for e in events] == [
        ("monai_unet", 3, 2, 5e-4, 1)]
    assert "loss_dice_ce=nan" in events[0]["reason"]
    assert [r["step"] for r in records if "event" not in r] == [1, 2, 3, 4]
    assert all(torch.isfinite(v).all() for v in load_file(str(full)).values())
    last = load_checkpoint(tmp_path / "full")
    assert last.state["train"]["divergence"]["lr_scale"] == 0.5
    assert {g["lr"] for g in last.state["optimizers"]["network"]["param_groups"]} == {5e-4}

    # the same failure, a stop right after the recovery, then a resume: same weights, same records
    nan_at({3})
    part = tmp_path / "part"
    train_baseline("monai_unet", tiny_ring_dataset, part, stop_after=3, **args)
    assert load_checkpoint(part).state["train"]["divergence"]["lr_scale"] == 0.5
    nan_at(())
    resumed = train_baseline("monai_unet", tiny_ring_dataset, part, **args)
    _same_weights(full, resumed)
    assert _records(part) == records


def test_a_baseline_that_keeps_diverging_stops_with_the_cascade_s_error(
        tiny_ring_dataset, baseline_split, tmp_path, nan_at):
    nan_at("always")
    run = tmp_path / "run"
    with pytest.raises(DivergenceError, match="diverged at step 1 .* 4 times in a row"):
        train_baseline("scar_unet3d", tiny_ring_dataset, run, steps=3, seed=0, device="cpu",
                       split=baseline_split, preset="tiny")
    assert [e["lr"] for e in _records(run) if e.get("event")] == [5e-4, 2.5e-4, 1.25e-4]
    assert not (run / "model.safetensors").exists()


def test_an_augmented_baseline_resumes_exactly_and_a_plan_from_before_the_option_still_resumes(
        tiny_ring_dataset, baseline_split, tmp_path):
    args = {"steps": 4, "seed": 1, "device": "cpu", "split": baseline_split, "preset": "tiny",
            "deterministic": True, "dihedral_augmentation": 1.0, "ed_shift_augmentation": 1}
    straight = train_baseline("monai_unet", tiny_ring_dataset, tmp_path / "straight", **args)
    part = tmp_path / "part"
    train_baseline("monai_unet", tiny_ring_dataset, part, stop_after=2, **args)
    plan = json.loads((part / "config.json").read_text())
    assert plan["config"]["dihedral_augmentation"] == 1.0 and plan["config"]["ed_shift_augmentation"] == 1
    _same_weights(straight, train_baseline("monai_unet", tiny_ring_dataset, part, **args))
    unaugmented = train_baseline("monai_unet", tiny_ring_dataset, tmp_path / "plain",
                                 **(args | {"dihedral_augmentation": 0.0, "ed_shift_augmentation": 0}))
    assert load_file(str(unaugmented)).keys() == load_file(str(straight)).keys()
    assert any(not torch.equal(a, b) for a, b in zip(load_file(str(unaugmented)).values(),
                                                     load_file(str(straight)).values()))
    # a run whose plan was written before the option existed resumes as unaugmented
    old = tmp_path / "old"
    plain_args = args | {"dihedral_augmentation": 0.0, "ed_shift_augmentation": 0}
    train_baseline("monai_unet", tiny_ring_dataset, old, stop_after=2, **plain_args)
    saved = json.loads((old / "config.json").read_text())
    del saved["config"]["dihedral_augmentation"], saved["config"]["ed_shift_augmentation"]
    (old / "config.json").write_text(json.dumps(saved))
    _same_weights(unaugmented, train_baseline("monai_unet", tiny_ring_dataset, old, **plain_args))
