"""Forward shapes and output decoding of every baseline network."""

from __future__ import annotations

import pytest
import torch

from pscgan.baselines.config import BaselineKind, baseline_config
from pscgan.baselines.networks import PatchDiscriminator, Pix2PixGenerator, build_network, decode_outputs
from pscgan.errors import ConfigError

OUT_CHANNELS = {BaselineKind.SCAR_UNET3D: 1, BaselineKind.PIX2PIX: 1, BaselineKind.MONAI_UNET: 4}


@pytest.mark.parametrize("preset", ["tiny", "cpu"])
@pytest.mark.parametrize("kind", list(BaselineKind))
def test_forward_shapes(kind, preset):
    cfg = baseline_config(kind, preset)
    torch.manual_seed(0)
    net = build_network(cfg).eval()
    cine = torch.rand(2, 1, cfg.frames, cfg.image_size, cfg.image_size) * 2 - 1
    with torch.no_grad():
        raw = net(cine)
    assert tuple(raw.shape) == (2, OUT_CHANNELS[kind], cfg.image_size, cfg.image_size)
    decoded = decode_outputs(kind, raw)
    if kind is BaselineKind.PIX2PIX:
        assert set(decoded) == {"lge"} and decoded["lge"].abs().max() <= 1  # tanh range
    else:
        assert set(decoded) == {"labels"} and decoded["labels"].dtype == torch.uint8


def test_scar_unet_keeps_time_until_the_end():
    """Changing a single late frame changes the output: time is not collapsed before the last layer."""
    cfg = baseline_config("scar_unet3d", "tiny")
    torch.manual_seed(0)
    net = build_network(cfg).eval()
    cine = torch.rand(1, 1, cfg.frames, cfg.image_size, cfg.image_size)
    other = cine.clone()
    other[:, :, -1] = 0
    with torch.no_grad():
        assert not torch.allclose(net(cine), net(other))


def test_scar_only_decoding_writes_scar_as_3_and_nothing_else():
    logits = torch.tensor([[[[2.0, -1.0], [0.5, -3.0]]]])
    labels = decode_outputs(BaselineKind.SCAR_UNET3D, logits)["labels"]
    assert labels.tolist() == [[[3, 0], [3, 0]]]


def test_monai_unet_decoding_is_argmax():
    logits = torch.randn(2, 4, 5, 5)
    assert torch.equal(decode_outputs(BaselineKind.MONAI_UNET, logits)["labels"].long(), logits.argmax(1))


def test_patch_discriminator_judges_frames_and_lge():
    cfg = baseline_config("pix2pix", "tiny")
    d = PatchDiscriminator(cfg)
    cine = torch.zeros(3, 1, cfg.frames, cfg.image_size, cfg.image_size)
    patches = d(cine, torch.zeros(3, 1, cfg.image_size, cfg.image_size))
    assert patches.shape[:2] == (3, 1) and patches.shape[-1] > 1  # a map of patch scores, not one score


def test_pix2pix_generator_needs_a_power_of_two_image():
    cfg = baseline_config("pix2pix", "tiny").model_copy(update={"image_size": 24})
    with pytest.raises(ValueError, match="16-pixel image"):
        Pix2PixGenerator(cfg)


def test_unknown_kind_is_refused_with_the_known_ones():
    with pytest.raises(ConfigError, match="scar_unet3d"):
        baseline_config("unet9000")
