"""Phase III's generator started from phase I's: the same masks at the start, whatever the LGE."""

from __future__ import annotations

import pytest
import torch

from pscgan.config.presets import get_preset
from pscgan.config.schema import apply_overrides
from pscgan.models.factory import build_generator
from pscgan.models.weights import load_weights
from pscgan.training.launch import TrainOptions, run_training
from pscgan.training.warm_start import warm_start


@pytest.mark.parametrize("injection", ["decoder", "bottleneck", "encoder"])
def test_the_warm_started_generator_computes_what_phase_one_computes(injection):
    encoder = ["model.encoder=frame_stack", "model.frame_stack_skip=true"] if injection == "encoder" else []
    cfg = apply_overrides(get_preset("tiny"), [*encoder, f"model.condition_injection={injection}"])
    torch.manual_seed(0)
    coarse, seg = build_generator(cfg, "coarse").eval(), build_generator(cfg, "segmentation").eval()
    record = warm_start(seg, coarse)
    assert not record.kept and "fc2.weight" in record.widened
    assert any(k.startswith("up.") for k in record.widened) == (injection != "bottleneck")
    # with the condition stacked on the frames, the first stage and the full-resolution skip widen too
    assert {"encoder.stages.0.down.0.weight", "frame_stack.0.weight"} <= set(record.widened) \
        or injection != "encoder"
    size = cfg.model.image_size
    cine = torch.randn(3, 1, cfg.model.frames, size, size)
    with torch.no_grad():
        want = coarse(cine)["mask_logits"]
        for lge in (torch.zeros(3, 1, size, size), torch.rand(3, 1, size, size) * 2 - 1):
            torch.testing.assert_close(seg(cine, lge)["mask_logits"], want, atol=1e-5, rtol=1e-5)
    # the condition's own weights start at zero, not at their random initialisation
    assert torch.count_nonzero(seg.fc2.weight[:, coarse.fc2.weight.shape[1]:]) == 0


def test_tensors_that_cannot_match_are_kept_and_reported():
    small = build_generator(get_preset("tiny"), "coarse")
    wider = build_generator(apply_overrides(get_preset("tiny"), ["model.widths=[4,8,16,16]"]), "segmentation")
    before = {k: v.clone() for k, v in wider.state_dict().items()}
    record = warm_start(wider, small)
    assert record.kept and all(torch.equal(wider.state_dict()[k], before[k]) for k in record.kept)
    assert set(record.copied) | set(record.widened) | set(record.kept) == set(before)


def test_training_starts_phase_three_from_phase_one(tiny_ring_dataset, tmp_path):
    # a learning rate too small to move any weight measurably: phase III ends where it started
    cfg = apply_overrides(get_preset("tiny"), ["train.steps_per_phase=1", "train.lr=1e-12",
                                               "train.warm_start_segmentation=true"])
    run = tmp_path / "run"
    cascade, _ = load_weights(run_training(TrainOptions(run=run, data=tiny_ring_dataset, config=cfg,
                                                        progress=False)))
    coarse = cascade.generators["coarse"].state_dict()
    seg = cascade.generators["segmentation"].state_dict()
    shared = [k for k in coarse if seg[k].shape == coarse[k].shape]
    assert shared and all(torch.allclose(seg[k], coarse[k], atol=1e-6) for k in shared)
    assert "phase segmentation starts from phase coarse's generator" in (run / "train.log").read_text()
