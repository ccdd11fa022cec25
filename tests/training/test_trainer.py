"""End-to-end training with the tiny preset: run folder, resume, determinism, weights."""

from __future__ import annotations

import json

import pytest
import torch

from pscgan.config.presets import get_preset
from pscgan.config.schema import apply_overrides
from pscgan.errors import ConfigError, InputError
from pscgan.models.weights import load_weights
from pscgan.training.launch import TrainOptions, run_training


def _config(steps=3, **extra):
    over = [f"train.steps_per_phase={steps}", "train.validation_interval=2", "train.checkpoint_interval=2"]
    over += [f"{k}={v}" for k, v in extra.items()]
    return apply_overrides(get_preset("tiny"), over)


def _weights(path):
    from safetensors.torch import load_file

    return load_file(str(path))


def _train(data, cfg, run, **options):
    return run_training(TrainOptions(run=run, data=data, config=cfg, deterministic=True, progress=False,
                                     **options))


def _train_in_parts(data, cfg, run, budgets):
    """Train ``run`` in sittings of ``budgets`` steps each (a new run, then resumes); it stays unfinished."""
    for budget in budgets:
        _train(data, cfg, run, resume=run.exists(), stop_after=budget)
    return run


def _finish(run):
    return run_training(TrainOptions(run=run, resume=True, deterministic=True, progress=False))


def _assert_same_weights(a, b):
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


def test_full_run_writes_the_run_folder(tiny_ring_dataset, tmp_path):
    run = tmp_path / "run"
    weights = run_training(TrainOptions(run=run, data=tiny_ring_dataset, config=_config(), progress=False))
    for name in (
        "config.json",
        "split.json",
        "environment.json",
        "metrics.jsonl",
        "train.log",
        "model.safetensors",
    ):
        assert (run / name).is_file(), name
    split = json.loads((run / "split.json").read_text())
    assert split["validation"] and not set(split["validation"]) & set(split["train"])
    assert not set(split["test"]) & set(split["train"] + split["validation"])
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["phase"] for r in records if "g_total" in r][:1] == ["coarse"]
    assert {r["phase"] for r in records} == {"coarse", "synthesis", "segmentation"}
    assert any("val_dice_overall" in r for r in records) and any("val_ssim" in r for r in records)
    assert sorted(p.name for p in (run / "samples").iterdir())[0].startswith("coarse_")
    assert (run / "checkpoints" / "best_synthesis").is_dir()
    assert any((run / "tensorboard").iterdir())
    cascade, cfg = load_weights(weights)
    out = cascade(torch.zeros(1, 1, cfg.model.frames, cfg.model.image_size, cfg.model.image_size))
    assert out["mask_logits"].shape == (1, 4, 16, 16) and out["lge"].shape == (1, 1, 16, 16)


def test_interrupted_and_resumed_run_ends_with_the_same_weights_and_log(tiny_ring_dataset, tmp_path):
    # records every 3 steps: the second stop falls inside a logging window, which the checkpoint carries
    cfg = _config(steps=4, **{"train.log_interval": 3})
    full = run_training(TrainOptions(run=tmp_path / "full", data=tiny_ring_dataset, config=cfg,
                                     deterministic=True, progress=False))
    part = tmp_path / "part"
    # stop mid-phase (step 3 of phase I), then in phase II, then finish
    run_training(
        TrainOptions(
            run=part, data=tiny_ring_dataset, config=cfg, deterministic=True, progress=False, stop_after=3
        )
    )
    assert not (part / "model.safetensors").exists()
    run_training(TrainOptions(run=part, resume=True, deterministic=True, progress=False, stop_after=3))
    resumed = run_training(TrainOptions(run=part, resume=True, deterministic=True, progress=False))
    a, b = _weights(full), _weights(resumed)
    assert a.keys() == b.keys()
    _assert_same_weights(a, b)
    def records(run):  # wall-clock timing differs between sittings
        lines = (run / "metrics.jsonl").read_text().splitlines()
        return [{k: v for k, v in json.loads(x).items() if k != "seconds_per_step"} for x in lines]

    assert records(tmp_path / "full") == records(part)
    assert [r["phase_step"] for r in records(part) if "g_total" in r][:2] == [3, 4]
    assert any("d_saturated" in r for r in records(part))  # the tiny preset's loss is the hinge
    # the record keeps the sitting that created the run and lists both resumes after it
    env = json.loads((part / "environment.json").read_text())
    assert env["deterministic"] is True and len(env["resumes"]) == 2
    assert all(r["versions"]["torch"] == torch.__version__ for r in env["resumes"])


def test_unequal_phase_steps_resume_exactly_and_number_the_steps_on_one_axis(tiny_ring_dataset, tmp_path):
    # 9 steps in all, split 4 / 1 / 4: checkpoints and records number them 1..9 without a collision
    cfg = _config(steps=3, **{"train.phase_step_shares": "[2,0.5,2]", "train.log_interval": 1})
    assert cfg.train.phase_steps(3) == (4, 1, 4)
    full = _train(tiny_ring_dataset, cfg, tmp_path / "full")
    # stops after phase II's only step (step 5), then mid-phase III (step 7)
    part = _train_in_parts(tiny_ring_dataset, cfg, tmp_path / "part", (5, 2))
    _assert_same_weights(_weights(full), _weights(_finish(part)))
    steps = [json.loads(x) for x in (part / "metrics.jsonl").read_text().splitlines()]
    steps = [(r["phase"], r["phase_step"], r["step"]) for r in steps if "g_total" in r]
    assert [s for _, _, s in steps] == list(range(1, 10))
    assert [(p, s) for p, s, _ in steps][3:6] == [("coarse", 4), ("synthesis", 1), ("segmentation", 1)]


def test_generator_average_and_augmentation_resume_exactly_and_the_average_is_shipped(tiny_ring_dataset,
                                                                                      tmp_path):
    from pscgan.training.checkpoint import load_checkpoint

    cfg = _config(steps=4, **{"train.generator_ema_decay": 0.9, "train.dihedral_augmentation": 1.0,
                              "train.ed_shift_augmentation": 1})
    full = _train(tiny_ring_dataset, cfg, tmp_path / "full")
    # stops at step 3 (mid-phase I, between checkpoints), then 6 (mid-phase II)
    part = _train_in_parts(tiny_ring_dataset, cfg, tmp_path / "part", (3, 3))
    ck = load_checkpoint(part)
    average, raw = ck.module_state("synthesis.generator_average"), ck.module_state("synthesis.generator")
    assert average.keys() == raw.keys()
    assert any(not torch.equal(average[k], raw[k]) for k in raw)  # the average is not the raw weights
    a, b = _weights(full), _weights(_finish(part))
    assert a.keys() == b.keys() and not any("average" in k for k in a)  # shipped under the usual names
    _assert_same_weights(a, b)
    # the shipped phase III generator is its best average: the best checkpoint holds the same weights
    best = load_checkpoint(part / "checkpoints" / "best_segmentation").module_state("segmentation.generator")
    for k, v in best.items():
        torch.testing.assert_close(b[f"generators.segmentation.{k}"], v, rtol=0, atol=0, msg=k)


def test_phase_learning_rates_reach_the_optimisers_and_resume_exactly(tiny_ring_dataset, tmp_path):
    from pscgan.models.phase import Phase
    from pscgan.training.trainer import build_phase

    cfg = _config(steps=4, **{"train.phase_lr_factors": "[1,0.5,0.1]", "train.warm_start_segmentation": True,
                              "train.lr_schedule": "poly"})
    rates = {p: [g["lr"] for o in (n.opt_g, n.opt_d) for g in o.param_groups]
             for p in Phase if p is not Phase.JOINT for n in [build_phase(cfg, p, torch.device("cpu"))]}
    lr = cfg.train.lr
    assert rates == {Phase.COARSE: [lr, lr], Phase.SYNTHESIS: [lr / 2, lr / 2],
                     Phase.SEGMENTATION: [pytest.approx(lr / 10)] * 2}
    full = _train(tiny_ring_dataset, cfg, tmp_path / "full")
    # stops inside phase III (its step 1, then 2), a poly rate mid-decay
    part = _train_in_parts(tiny_ring_dataset, cfg, tmp_path / "part", (9, 1))
    a = _weights(full)
    _assert_same_weights(a, _weights(_finish(part)))
    one_rate = _config(steps=4, **{"train.warm_start_segmentation": True, "train.lr_schedule": "poly"})
    c = _weights(_train(tiny_ring_dataset, one_rate, tmp_path / "one"))
    assert all(torch.equal(a[k], c[k]) for k in a if k.startswith("generators.coarse."))  # phase I alike
    assert any(not torch.equal(a[k], c[k]) for k in a if k.startswith("generators.segmentation."))


def test_progressive_off_trains_one_joint_generator(tiny_ring_dataset, tmp_path):
    weights = run_training(
        TrainOptions(
            run=tmp_path / "joint",
            data=tiny_ring_dataset,
            config=_config(steps=2, **{"model.progressive": "false"}),
            progress=False,
        )
    )
    cascade, _ = load_weights(weights)
    assert not cascade.progressive


def test_new_run_refuses_a_folder_with_data(tiny_ring_dataset, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "precious.txt").write_text("x")
    from pscgan.errors import OutputExistsError

    with pytest.raises(OutputExistsError):
        run_training(TrainOptions(run=run, data=tiny_ring_dataset, config=_config(), progress=False))
    assert (run / "precious.txt").read_text() == "x"


def test_resume_errors(tiny_ring_dataset, tmp_path):
    with pytest.raises(InputError, match="nothing to resume"):
        run_training(TrainOptions(run=tmp_path / "none", resume=True))
    run = tmp_path / "run"
    run_training(
        TrainOptions(run=run, data=tiny_ring_dataset, config=_config(steps=2), progress=False, stop_after=1)
    )
    with pytest.raises(ConfigError, match="another configuration"):
        run_training(TrainOptions(run=run, resume=True, config=_config(steps=5)))
