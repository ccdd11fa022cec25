from __future__ import annotations

import torch
import torch.nn.functional as F

from pscgan.config.schema import AttentionMode, Pathways
from pscgan.models.pathways import SpatialPathway, TemporalPathway, kept_dilations, space_to_depth
from pscgan.models.scln import SCLNEncoder


def test_kept_dilations_drop_those_reading_only_padding():
    assert kept_dilations((1, 2, 4, 6, 8), 32) == (1, 2, 4, 6, 8)
    assert kept_dilations((1, 2, 4, 6, 8), 4) == (1, 2)
    assert kept_dilations((8,), 4) == (1,)
    sp = SpatialPathway(8, 8, out_size=4)
    assert sp.dilations == (1, 1, 2) and sp.residual_dilations == (1, 2)
    assert TemporalPathway(1, 8, frames=25).dilations == (1, 1, 2, 4, 6, 8)


def test_temporal_pathway_is_causal():
    torch.manual_seed(0)
    tp = TemporalPathway(2, 6, frames=9)
    x = torch.randn(2, 2, 9, 8 * 8)
    ref = tp(x, (8, 8))
    for t in (0, 3, 7):
        changed = x.clone()
        changed[:, :, t + 1:] = torch.randn_like(changed[:, :, t + 1:]) * 5
        out = tp(changed, (8, 8))
        torch.testing.assert_close(out[:, :, :t + 1], ref[:, :, :t + 1], atol=1e-6, rtol=0)
        assert not torch.allclose(out[:, :, t + 1:], ref[:, :, t + 1:])


def test_scln_temporal_stream_is_causal_through_all_blocks(tiny):
    """Temporal pathway only, attention unit off: every encoder output at frame t reads frames <= t."""
    cfg = tiny.model.model_copy(update={"pathways": Pathways.TEMPORAL, "attention": AttentionMode.NONE,
                                        "frames": 6})
    enc = SCLNEncoder(cfg)
    x = torch.randn(1, 1, 6, 16, 16)
    ref = enc(x)
    changed = x.clone()
    changed[:, :, 3:] = -changed[:, :, 3:]
    out = enc(changed)
    for a, b in zip([*ref.skips, ref.bottleneck], [*out.skips, out.bottleneck], strict=True):
        torch.testing.assert_close(b[:, :, :3], a[:, :, :3], atol=1e-6, rtol=0)


def test_spatial_pathway_treats_frames_independently():
    torch.manual_seed(1)
    sp = SpatialPathway(1, 4, out_size=8)
    x = torch.randn(5, 1, 16, 16)
    ref = sp(x)
    changed = x.clone()
    changed[2] = torch.randn(1, 16, 16)
    out = sp(changed)
    keep = [0, 1, 3, 4]
    torch.testing.assert_close(out[keep], ref[keep])


def test_space_to_depth_matches_pixel_unshuffle():
    x = torch.randn(2, 3, 4, 6 * 8)
    ours = space_to_depth(x, (6, 8))
    frames = x.view(2, 3, 4, 6, 8).transpose(1, 2).reshape(8, 3, 6, 8)
    ref = F.pixel_unshuffle(frames, 2).view(2, 4, 12, 12).transpose(1, 2)
    torch.testing.assert_close(ours, ref.reshape(2, 12, 4, 12))


def test_first_temporal_conv_is_a_causal_k_by_2_by_2_conv3d():
    """The space-to-depth + (k, 1) reading equals Conv3d with a (k, 2, 2) kernel and in-plane stride 2."""
    torch.manual_seed(2)
    tp = TemporalPathway(2, 3, frames=5, kernel=3)
    conv = tp.stack[0].conv  # Conv2d(4*2 -> 3, (3, 1)) after space-to-depth
    w3 = conv.weight.view(3, 2, 2, 2, 3).permute(0, 1, 4, 2, 3)  # (out, c, i, j, k) -> (out, c, k, i, j)
    x = torch.randn(1, 2, 5, 4, 4)
    ref = F.conv3d(F.pad(x, (0, 0, 0, 0, 2, 0)), w3, conv.bias, stride=(1, 2, 2))
    ours = conv(F.pad(space_to_depth(x.reshape(1, 2, 5, 16), (4, 4)), (0, 0, 2, 0)))
    torch.testing.assert_close(ours, ref.reshape(1, 3, 5, 4))
