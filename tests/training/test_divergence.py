"""Divergence recovery: a NaN/inf step is never applied, the phase goes back to its last checkpoint with a
lower learning rate, the event is recorded, and the lowered rate survives a resume."""

from __future__ import annotations

import json
import math

import pytest
import torch

import pscgan.training.steps as steps_module
from pscgan.config.presets import get_preset
from pscgan.config.schema import apply_overrides
from pscgan.training.checkpoint import load_checkpoint
from pscgan.training.distributed import DistContext
from pscgan.training.divergence import (
    DivergenceError,
    DivergenceGuard,
    DivergenceState,
    NonFiniteStep,
    all_finite,
    check_update,
)
from pscgan.training.launch import TrainOptions, run_training

CPU = DistContext(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))


def _config(steps=4, progressive=False, **extra):
    over = [f"train.steps_per_phase={steps}", "train.checkpoint_interval=2", "train.validation_interval=2",
            f"model.progressive={str(progressive).lower()}"] + [f"{k}={v}" for k, v in extra.items()]
    return apply_overrides(get_preset("tiny"), over)


@pytest.fixture
def nan_at(monkeypatch):
    """``nan_at(calls)``: the generator loss is NaN at these (1-based) generator-objective calls."""
    original = steps_module.generator_objective
    seen = {"n": 0}

    def install(calls):
        seen["n"] = 0

        def poisoned(*args, **kwargs):
            terms = original(*args, **kwargs)
            seen["n"] += 1
            if calls == "always" or seen["n"] in calls:
                terms["total"] = terms["total"] * float("nan")
            return terms

        monkeypatch.setattr(steps_module, "generator_objective", poisoned)

    return install


def _records(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _weights(path):
    from safetensors.torch import load_file

    return load_file(str(path))


def test_guard_lowers_the_rate_and_gives_up_after_max_retries(tmp_path):
    guard = DivergenceGuard(max_retries=2, lr_factor=0.5, base_lr=1e-3, run=tmp_path)
    state = DivergenceState()
    first = guard.record(state, phase="coarse", failed_step=5, restored_step=4, reason="g_total=nan")
    assert first == {
        "event": "divergence",
        "step": 4,
        "phase": "coarse",
        "failed_step": 5,
        "reason": "g_total=nan",
        "retry": 1,
        "lr_scale": 0.5,
        "lr": 5e-4,
    }
    guard.record(state, phase="coarse", failed_step=5, restored_step=4, reason="g_total=nan")
    assert state.lr_scale == 0.25 and len(state.events) == 2
    with pytest.raises(DivergenceError, match="diverged at step 5.*3 times in a row"):
        guard.record(state, phase="coarse", failed_step=5, restored_step=4, reason="g_total=nan")
    guard.reached_checkpoint(state)
    assert guard.record(state, phase="coarse", failed_step=9, restored_step=8, reason="x")["retry"] == 1


def test_check_update_refuses_non_finite_losses_and_gradients():
    net = torch.nn.Linear(3, 1)
    net(torch.ones(2, 3)).sum().backward()
    check_update({"g_total": 1.0}, net, CPU)
    with pytest.raises(NonFiniteStep, match="g_total=inf"):
        check_update({"g_total": math.inf, "g_l1": 0.5}, net, CPU)
    net.weight.grad[0, 1] = float("nan")
    with pytest.raises(NonFiniteStep, match="gradients"):
        check_update({"g_total": 1.0}, net, CPU)
    assert all_finite([torch.ones(2), None]) and not all_finite([torch.tensor([1.0, -math.inf])])


def test_a_nan_generator_loss_never_reaches_the_weights(tiny_ring_dataset, nan_at):
    from pscgan.data.cache import TrainingCache, ensure_cache
    from pscgan.models.phase import Phase
    from pscgan.preprocessing.pipeline import PreprocessOptions
    from pscgan.training.conditions import CacheSamples
    from pscgan.training.dataset import collate
    from pscgan.training.trainer import build_phase

    cfg = _config()
    cache = TrainingCache(ensure_cache(tiny_ring_dataset, PreprocessOptions(n_phases=4, crop_size=16)))
    batch = collate([CacheSamples(cache)[i] for i in range(2)])
    nets = build_phase(cfg, Phase.COARSE, CPU.device)
    before = {k: v.clone() for k, v in nets.generator.state_dict().items()}
    nan_at("always")
    with pytest.raises(NonFiniteStep, match="g_total=nan"):
        steps_module.generator_step(
            Phase.COARSE,
            cfg.loss,
            nets.generator,
            nets.discriminator,
            nets.opt_g,
            batch,
            CPU,
            cfg.model.classes,
        )
    for k, v in nets.generator.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0, msg=k)
    assert not nets.opt_g.state  # Adam never stepped: no moments were created


def test_training_recovers_from_a_nan_step_and_the_lower_rate_survives_a_resume(tiny_ring_dataset, tmp_path,
                                                                               nan_at):
    cfg = _config(steps=4)
    nan_at({3})  # step 3: after the checkpoint at step 2
    full = run_training(
        TrainOptions(
            run=tmp_path / "full", data=tiny_ring_dataset, config=cfg, deterministic=True, progress=False
        )
    )
    records = _records(tmp_path / "full")
    events = [r for r in records if r.get("event") == "divergence"]
    assert [(e["failed_step"], e["step"], e["lr"], e["retry"]) for e in events] == [(3, 2, 5e-4, 1)]
    assert [r["step"] for r in records if "event" not in r] == [1, 2, 3, 4]
    assert "learning rate lowered to 0.0005" in (tmp_path / "full" / "train.log").read_text()
    assert all(torch.isfinite(v).all() for v in _weights(full).values())
    last = load_checkpoint(tmp_path / "full")
    assert (
        last.state["train"]["divergence"]["lr_scale"] == 0.5
        and last.state["train"]["divergence"]["retries"] == 0
    )
    assert {g["lr"] for g in last.state["opt_g"]["param_groups"]} == {5e-4}

    # The same failure, then a stop right after the recovery, then a resume: same weights, same records.
    nan_at({3})
    part = tmp_path / "part"
    run_training(
        TrainOptions(
            run=part, data=tiny_ring_dataset, config=cfg, deterministic=True, progress=False, stop_after=3
        )
    )
    assert load_checkpoint(part).state["train"]["divergence"]["lr_scale"] == 0.5
    nan_at(())
    resumed = run_training(TrainOptions(run=part, resume=True, deterministic=True, progress=False))
    a, b = _weights(full), _weights(resumed)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)
    strip = [{k: v for k, v in r.items() if k != "seconds_per_step"} for r in records]
    assert strip == [{k: v for k, v in r.items() if k != "seconds_per_step"} for r in _records(part)]


def test_a_nan_before_the_first_checkpoint_of_a_phase_restarts_that_phase(
    tiny_ring_dataset, tmp_path, nan_at
):
    nan_at({3})  # the first generator step of phase II (2 steps per phase)
    run = tmp_path / "run"
    weights = run_training(
        TrainOptions(
            run=run, data=tiny_ring_dataset, config=_config(steps=2, progressive=True), progress=False
        )
    )
    events = [r for r in _records(run) if r.get("event")]
    assert [(e["phase"], e["failed_step"], e["step"], e["lr"]) for e in events] == [("synthesis", 3, 2, 5e-4)]
    assert all(torch.isfinite(v).all() for v in _weights(weights).values())
    final = load_checkpoint(run).state  # phase III starts again from the configured rate
    assert final["train"]["divergence"]["lr_scale"] == 1.0 and final["opt_g"]["param_groups"][0]["lr"] == 1e-3


def test_training_that_keeps_diverging_stops_with_a_clear_error(tiny_ring_dataset, tmp_path, nan_at):
    nan_at("always")
    run = tmp_path / "run"
    with pytest.raises(DivergenceError, match="diverged at step 1 .* 3 times in a row") as err:
        run_training(TrainOptions(run=run, data=tiny_ring_dataset,
                                  config=_config(**{"train.divergence_retries": 2}), progress=False))
    assert "train.lr" in str(err.value)
    assert [e["lr"] for e in _records(run) if e.get("event")] == [5e-4, 2.5e-4]
    assert not (run / "model.safetensors").exists()


class Killed(Exception):
    """The process ends here (a kill between two checkpoints)."""


def test_a_run_killed_after_a_recovery_resumes_with_its_later_best(tiny_ring_dataset, tmp_path, monkeypatch):
    """A NaN at step 5 rolls the phase back to its checkpoint of step 3 and checkpoints it again, keeping
    the best validation of step 4; killed then, the run resumes: the resume checks accept a best score
    after the checkpoint's step when its divergence record shows the run got there."""
    import pscgan.training.validation as validation_module

    original, real_validate = steps_module.generator_objective, validation_module.validate
    calls, scores = {"n": 0}, iter([0.1, 0.9, 0.5, 0.5])

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:  # step 4 again, after the recovery
            raise Killed
        terms = original(*args, **kwargs)
        if calls["n"] == 5:
            terms["total"] = terms["total"] * float("nan")
        return terms

    monkeypatch.setattr(steps_module, "generator_objective", poisoned)
    monkeypatch.setattr(validation_module, "validate", lambda *a, **k: real_validate(*a, **k) | {
        "score": next(scores)})
    cfg = _config(steps=6, **{"train.checkpoint_interval": 3})
    run = tmp_path / "run"
    with pytest.raises(Killed):
        run_training(TrainOptions(run=run, data=tiny_ring_dataset, config=cfg, progress=False))
    stopped = load_checkpoint(run)
    (phase, best), = stopped.state["train"]["best"].items()
    assert stopped.path.name == "step_00000003" and best == {"score": 0.9, "step": 4}
    monkeypatch.setattr(steps_module, "generator_objective", original)
    weights = run_training(TrainOptions(run=run, resume=True, progress=False))
    assert weights.is_file() and load_checkpoint(run).state["train"]["best"][phase]["step"] == 4
