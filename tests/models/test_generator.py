from __future__ import annotations

import pytest
import torch

from pscgan.config.presets import get_preset
from pscgan.config.schema import (
    AttentionMode,
    BottleneckInput,
    ConditionInjection,
    EncoderKind,
    ImageNorm,
    Pathways,
    SkipCollapse,
)
from pscgan.models.factory import build_cascade, build_generator
from pscgan.models.generator import Generator
from pscgan.models.interfaces import COARSE_MASK_LOGITS, LGE, MASK_LOGITS
from pscgan.models.phase import Phase, condition_from

from .conftest import cine_for, condition_for

EXPECTED_KEYS = {Phase.COARSE: {MASK_LOGITS}, Phase.SYNTHESIS: {LGE}, Phase.SEGMENTATION: {MASK_LOGITS},
                 Phase.JOINT: {MASK_LOGITS, LGE}}


def check_outputs(out, phase, batch, cfg):
    assert set(out) == EXPECTED_KEYS[phase]
    s = cfg.image_size
    if MASK_LOGITS in out:
        assert tuple(out[MASK_LOGITS].shape) == (batch, cfg.classes, s, s)
    if LGE in out:
        assert tuple(out[LGE].shape) == (batch, 1, s, s)
        if out[LGE].device.type != "meta":
            assert out[LGE].abs().max() <= 1


@pytest.mark.parametrize("preset", ["tiny", "cpu", "paper"])
@pytest.mark.parametrize("phase", list(Phase))
def test_output_shapes_of_every_preset(preset, phase):
    cfg = get_preset(preset)
    with torch.device("meta"):  # shapes only: the paper generator has 2e8 parameters
        g = build_generator(cfg, phase)
        out = g(cine_for(cfg, batch=1).to("meta"), condition_for(cfg, phase, batch=1))
    check_outputs(out, phase, 1, cfg.model)


VARIANTS = ([{"encoder": k} for k in EncoderKind]
            + [{"pathways": p, "attention": a} for p in Pathways for a in AttentionMode]
            + [{"bottleneck_input": BottleneckInput.TIME_WEIGHTED, "condition_pool": 2},
               {"condition_injection": ConditionInjection.DECODER, "condition_pool": 2},
               {"attention": AttentionMode.FACTORISED, "full_attention_max_positions": 64},
               {"attention": AttentionMode.NONE, "full_attention_max_positions": 64},
               {"skip_collapse": SkipCollapse.TEMPORAL_PROJECTION},
               {"frame_stack_skip": True},
               {"bottleneck_skip": True},
               {"decoder_residual": True},
               {"encoder": EncoderKind.FRAME_STACK, "bottleneck_skip": True, "decoder_residual": True},
               {"encoder": EncoderKind.FRAME_STACK, "frame_stack_skip": True,
                "condition_injection": ConditionInjection.ENCODER},
               {"encoder": EncoderKind.FRAME_STACK, "frame_stack_skip": True,
                "generator_norm": ImageNorm.INSTANCE}])


def _variant_id(update: dict) -> str:
    return "-".join(str(getattr(v, "value", v)) for v in update.values())


@pytest.mark.parametrize("update", VARIANTS, ids=_variant_id)
@pytest.mark.parametrize("phase", [Phase.SYNTHESIS, Phase.JOINT])
def test_every_variant_runs_and_every_parameter_gets_a_gradient(tiny, update, phase):
    cfg = tiny.model.model_copy(update=update)
    torch.manual_seed(0)
    g = Generator(cfg, phase)
    for name, p in g.named_parameters():
        if name.endswith("gamma"):
            p.data.fill_(0.5)  # gamma starts at 0, which would block the attention weights' gradients
    out = g(cine_for(tiny), condition_for(tiny, phase))
    check_outputs(out, phase, 2, cfg)
    sum((o * torch.randn_like(o)).sum() for o in out.values()).backward()
    missing = [n for n, p in g.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert not missing


def test_temporal_projection_skips_start_as_the_dot_layer_and_can_read_motion(tiny):
    from pscgan.models.layers import TemporalProjection, TimeWeighting

    x = torch.randn(2, 5, tiny.model.frames, 6, 6)
    projection = TemporalProjection(5, tiny.model.frames)
    torch.testing.assert_close(projection(x), TimeWeighting(tiny.model.frames)(x))
    # unlike one weight per frame, it can tell a pixel's change over time from its level
    with torch.no_grad():
        projection.conv.weight.zero_()
        projection.conv.weight[0, 0, 0], projection.conv.weight[0, 0, -1] = -1.0, 1.0
    ramp = torch.linspace(0, 1, tiny.model.frames).view(1, 1, -1, 1, 1).expand(1, 5, -1, 6, 6)
    assert torch.allclose(projection(ramp)[0, 0], torch.ones(6, 6))
    assert torch.allclose(projection(torch.ones_like(ramp))[0, 0], torch.zeros(6, 6))


@pytest.mark.parametrize("mode", [AttentionMode.FACTORISED, AttentionMode.NONE])
def test_small_blocks_keep_full_attention(tiny, mode):
    cfg = tiny.model.model_copy(update={"attention": mode, "full_attention_max_positions": 64})
    modes = [b.attention_mode for b in Generator(cfg, Phase.COARSE).encoder.blocks]
    # T*h*w per block: 4*8*8=256, 4*4*4=64, 16, 4
    assert modes == [mode, AttentionMode.FULL, AttentionMode.FULL, AttentionMode.FULL]


def test_condition_is_checked(tiny):
    g2 = build_generator(tiny, Phase.SYNTHESIS)
    with pytest.raises(ValueError, match="needs a condition"):
        g2(cine_for(tiny))
    g1 = build_generator(tiny, Phase.COARSE)
    with pytest.raises(ValueError, match="takes no condition"):
        g1(cine_for(tiny), torch.zeros(2, 4, 16, 16))
    with pytest.raises(ValueError, match="cine must be"):
        g1(torch.zeros(2, 4, 16, 16))


def test_condition_changes_the_output(tiny):
    torch.manual_seed(0)
    g = build_generator(tiny, Phase.SEGMENTATION)
    cine = cine_for(tiny)
    a = g(cine, torch.zeros(2, 1, 16, 16))[MASK_LOGITS]
    b = g(cine, torch.ones(2, 1, 16, 16))[MASK_LOGITS]
    assert not torch.allclose(a, b)


def test_decoder_injection_lets_a_one_pixel_condition_change_that_pixel(tiny):
    # Through the bottleneck alone a condition pixel reaches the output only via a 4x4 grid; with
    # decoder injection it is concatenated at full resolution, so the output changes most near it.
    cfg = tiny.model_copy(update={"model": tiny.model.model_copy(
        update={"condition_injection": ConditionInjection.DECODER})})
    torch.manual_seed(0)
    g = build_generator(cfg, Phase.SEGMENTATION)
    cine = cine_for(cfg)
    base = torch.zeros(2, 1, 16, 16)
    spike = base.clone()
    spike[:, :, 9, 3] = 1.0
    diff = (g(cine, spike)[MASK_LOGITS] - g(cine, base)[MASK_LOGITS]).abs().sum(dim=(0, 1))
    assert diff[9, 3] > 0
    near = diff[8:11, 2:5].mean()
    far = torch.cat([diff[:4].flatten(), diff[-4:].flatten()]).mean()
    assert near > far


def test_cascade_feeds_each_phase_what_it_was_trained_on(tiny):
    torch.manual_seed(0)
    cascade = build_cascade(tiny)
    cine = cine_for(tiny)
    out = cascade(cine)
    assert set(out) == {COARSE_MASK_LOGITS, LGE, MASK_LOGITS}
    gens = cascade.generators
    coarse = gens["coarse"](cine)
    synth = gens["synthesis"](cine, torch.softmax(coarse[MASK_LOGITS], 1))
    seg = gens["segmentation"](cine, synth[LGE])
    torch.testing.assert_close(out[LGE], synth[LGE])
    torch.testing.assert_close(out[MASK_LOGITS], seg[MASK_LOGITS])
    assert torch.equal(condition_from(Phase.SEGMENTATION, synth), synth[LGE])


def test_joint_cascade_when_progressive_is_off(tiny):
    cfg = tiny.model_copy(update={"model": tiny.model.model_copy(update={"progressive": False})})
    out = build_cascade(cfg)(cine_for(tiny))
    assert set(out) == {LGE, MASK_LOGITS}


def test_decoder_options_leave_the_weights_of_a_generator_without_them_unchanged(tiny):
    # off, bottleneck_skip and decoder_residual add no parameter: earlier weight files load as they were
    base = Generator(tiny.model, Phase.JOINT).state_dict()
    on = Generator(tiny.model.model_copy(update={"bottleneck_skip": True, "decoder_residual": True}),
                   Phase.JOINT).state_dict()
    assert set(base) < set(on)
    added = set(on) - set(base)
    assert added and all(k.startswith("bottleneck_skip.") or ".refine." in k for k in added)


def test_encoder_injection_stacks_the_condition_with_the_frames(tiny):
    cfg = tiny.model.model_copy(update={"encoder": EncoderKind.FRAME_STACK, "frame_stack_skip": True,
                                        "condition_injection": ConditionInjection.ENCODER})
    plain = tiny.model.model_copy(update={"encoder": EncoderKind.FRAME_STACK, "frame_stack_skip": True,
                                          "condition_injection": ConditionInjection.DECODER})
    for phase in (Phase.SYNTHESIS, Phase.SEGMENTATION):
        g, d = Generator(cfg, phase), Generator(plain, phase)
        extra = phase.condition_channels(cfg.classes)
        assert g.encoder.stages[0].down[0].in_channels == d.encoder.stages[0].down[0].in_channels + extra
        assert g.frame_stack[0].in_channels == cfg.frames + extra
    # phase I has no condition: the same network as without the option
    assert (sum(p.numel() for p in Generator(cfg, Phase.COARSE).parameters())
            == sum(p.numel() for p in Generator(plain, Phase.COARSE).parameters()))


def test_encoder_injection_needs_the_frame_stack_encoder(tiny):
    with pytest.raises(ValueError, match="needs encoder=frame_stack"):
        type(tiny.model)(**{**tiny.model.model_dump(), "condition_injection": "encoder"})


def test_instance_norm_normalises_each_channel_of_the_generator(tiny):
    cfg = tiny.model.model_copy(update={"encoder": EncoderKind.FRAME_STACK, "frame_stack_skip": True,
                                        "generator_norm": ImageNorm.INSTANCE})
    g, plain = Generator(cfg, Phase.COARSE), Generator(tiny.model.model_copy(
        update={"encoder": EncoderKind.FRAME_STACK, "frame_stack_skip": True}), Phase.COARSE)
    norms = [m for m in g.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert norms and all(m.num_groups == m.num_channels for m in norms)
    # the same parameters by name and shape: a layer-norm generator's weights could warm-start it
    shapes = {k: v.shape for k, v in g.state_dict().items()}
    assert shapes == {k: v.shape for k, v in plain.state_dict().items()}
