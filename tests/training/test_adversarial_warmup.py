"""Adversarial warm-up: the first steps of a phase train the generator without the discriminator."""

from __future__ import annotations

import json

import torch

from pscgan.config.presets import get_preset
from pscgan.config.schema import apply_overrides
from pscgan.models.factory import build_generator
from pscgan.models.phase import Phase
from pscgan.training.distributed import DistContext
from pscgan.training.launch import TrainOptions, run_training
from pscgan.training.steps import generator_step, has_supervised_target


class _Untouchable(torch.nn.Module):
    def forward(self, *a, **k):
        raise AssertionError("the discriminator was read during the warm-up")


def test_a_supervised_only_step_never_reads_the_discriminator():
    cfg = get_preset("tiny")
    g = build_generator(cfg, Phase.COARSE)
    size, frames = cfg.model.image_size, cfg.model.frames
    batch = {"cine": torch.randn(2, 1, frames, size, size), "labels": torch.randint(0, 4, (2, size, size)),
             "lge": torch.zeros(2, 1, size, size)}
    opt = torch.optim.Adam(g.parameters(), lr=1e-3)
    logs = generator_step(
        Phase.COARSE,
        cfg.loss,
        g,
        _Untouchable(),
        opt,
        batch,
        DistContext(0, 1, 0, torch.device("cpu")),
        4,
        supervised_only=True,
    )
    assert "g_segmentation" in logs and "g_adversarial" not in logs


def test_synthesis_warms_up_only_with_a_pixel_loss():
    paper, cpu = get_preset("paper").loss, get_preset("cpu").loss
    assert has_supervised_target(Phase.COARSE, paper) and has_supervised_target(Phase.SEGMENTATION, paper)
    assert not has_supervised_target(Phase.SYNTHESIS, paper)  # regularisation alone teaches no LGE
    assert has_supervised_target(Phase.SYNTHESIS, cpu)


def test_training_starts_the_discriminator_after_the_warmup(tiny_ring_dataset, tmp_path):
    cfg = apply_overrides(get_preset("tiny"), ["train.steps_per_phase=3", "train.adversarial_warmup_steps=2",
                                               "loss.pixel_l1_weight=0"])
    run = tmp_path / "run"
    run_training(TrainOptions(run=run, data=tiny_ring_dataset, config=cfg, progress=False))
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if "g_total" in r]
    coarse = [r for r in train if r["phase"] == "coarse"]
    assert [("d_total" in r, "g_adversarial" in r) for r in coarse] == [(False, False), (False, False),
                                                                         (True, True)]
    # phase II has no pixel L1 here: nothing to warm up on, so the discriminator trains from step 1
    assert all("d_total" in r for r in train if r["phase"] == "synthesis")


def test_one_hot_masks_reach_the_discriminator_with_the_softmax_gradient():
    from pscgan.config.schema import MaskEncoding
    from pscgan.models.discriminator import fake_input

    logits = torch.randn(2, 4, 5, 5, requires_grad=True)
    hard = fake_input(Phase.COARSE, {"mask_logits": logits}, MaskEncoding.ONE_HOT)
    want = torch.nn.functional.one_hot(logits.argmax(1), 4).permute(0, 3, 1, 2).float()
    torch.testing.assert_close(hard.detach(), want, atol=1e-6, rtol=0)
    weights = torch.randn_like(hard)
    (grad_hard,) = torch.autograd.grad((hard * weights).sum(), logits)
    soft = fake_input(Phase.COARSE, {"mask_logits": logits})
    (grad_soft,) = torch.autograd.grad((soft * weights).sum(), logits)
    torch.testing.assert_close(grad_hard, grad_soft)


def test_the_cpu_presets_training_options_run_together(tiny_ring_dataset, tmp_path):
    # one-hot masks to the discriminators, phase III warm start and a warm-up, through every phase
    cfg = apply_overrides(
        get_preset("tiny"),
        [
            "train.steps_per_phase=2",
            "loss.mask_to_discriminator=one_hot",
            "train.warm_start_segmentation=true",
            "train.adversarial_warmup_steps=1",
        ],
    )
    run = tmp_path / "run"
    run_training(TrainOptions(run=run, data=tiny_ring_dataset, config=cfg, progress=False))
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert {r["phase"] for r in records if "d_total" in r} == {"coarse", "synthesis", "segmentation"}
    assert all(torch.isfinite(torch.tensor(r["g_total"])) for r in records if "g_total" in r)
