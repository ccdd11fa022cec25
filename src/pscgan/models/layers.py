"""Small building blocks shared by the networks: per-frame layer norm, per-frame and per-pixel convolutions.

Tensor layouts used inside the encoders (all public interfaces use ``volume`` = (B, C, T, H, W)):

* ``frames``: (B*T, C, H, W) -- every frame an independent image, so in-plane convolutions are plain
  ``conv2d`` calls (several times faster on CPU than ``conv3d`` with a (1, k, k) kernel).
* ``sequence``: (B, C, T, H*W) -- a zero-copy view of ``volume``; a (k, 1) ``conv2d`` on it is a
  per-pixel convolution along time.

Layer normalisation (section 6.3) is applied per frame, over (C, H, W), with a per-channel affine.
Normalising over (C, T, H, W) would let later frames change the statistics of earlier ones and break
the temporal pathway's causality.

Example:
    >>> import torch
    >>> x = torch.randn(2, 3, 5, 4, 4)
    >>> volume_to_frames(x).shape
    torch.Size([10, 3, 4, 4])
    >>> bool(torch.equal(frames_to_volume(volume_to_frames(x), 2), x))
    True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def volume_to_frames(x: Tensor) -> Tensor:
    """(B, C, T, H, W) -> (B*T, C, H, W)."""
    b, c, t, h, w = x.shape
    return x.transpose(1, 2).reshape(b * t, c, h, w)


def frames_to_volume(x: Tensor, batch: int) -> Tensor:
    """(B*T, C, H, W) -> (B, C, T, H, W)."""
    bt, c, h, w = x.shape
    return x.view(batch, bt // batch, c, h, w).transpose(1, 2).contiguous()


class ImageLayerNorm(nn.GroupNorm):
    """Layer norm of a (N, C, H, W) image over (C, H, W) with a per-channel affine.

    On ``frames`` tensors this is exactly the per-frame layer norm.
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__(1, channels, eps=eps)


def image_norm(kind: str, channels: int) -> nn.GroupNorm:
    """``layer`` (:class:`ImageLayerNorm`) or ``instance`` (each channel over H, W) with a per-channel
    affine; both are group norms, so their parameters have the same names and shapes.

    Example:
        >>> image_norm("instance", 8).num_groups, image_norm("layer", 8).num_groups
        (8, 1)
    """
    if kind == "instance":
        return nn.GroupNorm(channels, channels)
    if kind == "layer":
        return ImageLayerNorm(channels)
    raise ValueError(f"unknown normalisation {kind!r} (layer, instance)")


class SequenceLayerNorm(nn.Module):
    """Per-frame layer norm of a (B, C, T, P) or (B, C, T, H, W) tensor: statistics over C and space only."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        # group_norm on (B*T, C, space) is the per-frame layer norm, and several times faster on CPU
        # than a strided var_mean over dims (1, 3, ...), even with the two transposing copies.
        b, c, t = x.shape[:3]
        frames = x.transpose(1, 2).reshape(b * t, c, -1)
        y = F.group_norm(frames, 1, self.weight, self.bias, self.eps)
        return y.view(b, t, *x.shape[1:2], *x.shape[3:]).transpose(1, 2).contiguous()


class FrameConv(nn.Module):
    """In-plane conv -> per-frame layer norm -> LeakyReLU, applied to every frame of a volume.

    Used by the baseline encoders (the SCLN's spatial pathway keeps the ``frames`` layout end to end).
    """

    def __init__(self, in_ch: int, out_ch: int, *, kernel: int = 3, stride: int = 1,
                 slope: float = 0.2) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=kernel // 2)
        self.norm = ImageLayerNorm(out_ch)
        self.act = nn.LeakyReLU(slope)

    def forward(self, x: Tensor) -> Tensor:
        return frames_to_volume(self.act(self.norm(self.conv(volume_to_frames(x)))), x.shape[0])


class TimeConv(nn.Module):
    """Per-pixel conv along time -> per-frame layer norm -> LeakyReLU on a (B, C, T, H, W) volume.

    Args:
        causal: pad only on the past side, so output frame t reads frames <= t; otherwise centred.
    """

    def __init__(self, in_ch: int, out_ch: int, *, kernel: int = 3, dilation: int = 1, causal: bool = True,
                 slope: float = 0.2) -> None:
        super().__init__()
        total = (kernel - 1) * dilation
        self.pad = (total, 0) if causal else (total // 2, total - total // 2)
        self.conv = nn.Conv2d(in_ch, out_ch, (kernel, 1), dilation=(dilation, 1))
        self.norm = SequenceLayerNorm(out_ch)
        self.act = nn.LeakyReLU(slope)

    def forward(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        y = self.conv(F.pad(x.reshape(b, c, t, h * w), (0, 0, *self.pad)))
        return self.act(self.norm(y)).view(b, -1, t, h, w)


class TimeWeighting(nn.Module):
    """The paper's "dot layer": a learned weighted sum over time, (B, C, T, H, W) -> (B, C, H, W).

    Initialised to the temporal mean.
    """

    def __init__(self, frames: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((frames,), 1.0 / frames))

    def forward(self, x: Tensor) -> Tensor:
        return torch.einsum("bcthw,t->bchw", x, self.weight)


class TemporalProjection(nn.Module):
    """Collapse time with a learned channel-by-frame projection, (B, C, T, H, W) -> (B, C, H, W).

    A convolution whose kernel spans the whole time axis: each output channel weighs every input channel
    at every frame. Initialised to the temporal mean of each channel (the dot layer's start), so it
    departs from it only as far as training asks.
    """

    def __init__(self, channels: int, frames: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(channels, channels, (frames, 1, 1))
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[torch.arange(channels), torch.arange(channels)] = 1.0 / frames
            assert self.conv.bias is not None
            self.conv.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)[:, :, 0]
