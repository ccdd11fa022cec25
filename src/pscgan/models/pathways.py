"""The SCLN's two perceptual pathways (section 4.1.1): stacked dilated convolutions plus a residual block.

Spatial pathway
    Works on ``frames`` (B*T, C, H, W): 2D dilated convolutions shared by all frames (the paper's "one
    2D dilated convolution per frame" with shared weights). The first convolution has stride 2.

Temporal pathway
    Works on ``sequence`` (B, C, T, H*W): per-pixel causal dilated convolutions along time, left
    padded by (k-1)*dilation so that output frame t reads frames <= t only (WaveNet's causal padding).
    The paper writes this as a 1D convolution over the 4096-long flattened frame with "stride 4"; a
    dense 4096 -> 4096 filter per tap is infeasible, so -- as the architecture notes read it -- the
    filter is shared by all pixels and the stride-4 reduction is a 2x2 space-to-depth feeding the
    first causal convolution (each output reads the 4 pixels of its 2x2 cell).

Both stack convolutions with dilations [1, 1, 2, 4, 6, 8] (the first one carries the stride), then a
residual block of 3 more dilated convolutions with an identity shortcut. "The stack number varies
with the resolution" (section 4.1.1): a dilation that is not smaller than the feature map's extent
(in-plane size for the spatial pathway, frame count for the temporal one) would only read padding,
and is dropped -- at the 4x4 fourth block the spatial stack keeps dilations 1, 1, 2.

Every convolution is followed by per-frame layer norm and LeakyReLU (section 6.3).

Example:
    >>> import torch
    >>> sp = SpatialPathway(1, 8, out_size=16)
    >>> sp(torch.randn(2 * 5, 1, 32, 32)).shape
    torch.Size([10, 8, 16, 16])
    >>> tp = TemporalPathway(1, 8, frames=5)
    >>> tp(torch.randn(2, 1, 5, 32 * 32), (32, 32)).shape
    torch.Size([2, 8, 5, 256])
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from pscgan.models.layers import ImageLayerNorm, SequenceLayerNorm


def kept_dilations(dilations: tuple[int, ...], extent: int) -> tuple[int, ...]:
    """Dilations smaller than ``extent`` (at least ``(1,)``): larger ones would only read padding."""
    return tuple(d for d in dilations if d < extent) or (1,)


class _SpatialConv(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, kernel: int, dilation: int, stride: int,
                 slope: float | None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=dilation * (kernel // 2),
                              dilation=dilation)
        self.norm = ImageLayerNorm(out_ch)
        self.act = nn.LeakyReLU(slope) if slope is not None else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))


class CausalTimeConv(nn.Module):
    """Per-pixel causal dilated convolution along time on (B, C, T, P), then per-frame LN and LeakyReLU."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, dilation: int, slope: float | None) -> None:
        super().__init__()
        self.left_pad = (kernel - 1) * dilation
        self.conv = nn.Conv2d(in_ch, out_ch, (kernel, 1), dilation=(dilation, 1))
        self.norm = SequenceLayerNorm(out_ch)
        self.act = nn.LeakyReLU(slope) if slope is not None else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(F.pad(x, (0, 0, self.left_pad, 0)))))


class _Residual(nn.Module):
    """``act(x + f(x))`` where f is a stack of conv-norm(-act) layers (no activation after the last)."""

    def __init__(self, layers: list[nn.Module], slope: float) -> None:
        super().__init__()
        self.body = nn.Sequential(*layers)
        self.act = nn.LeakyReLU(slope)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(x + self.body(x))


class SpatialPathway(nn.Module):
    """Spatial perceptual pathway of one SCLN block: (B*T, C_in, H, W) -> (B*T, C_out, H/2, W/2).

    Args:
        in_ch, out_ch: channels.
        out_size: in-plane size of the output (for dropping dilations that only read padding).
        dilations: dilations of the stack; the first one (1) carries the stride 2.
        residual_dilations: dilations of the residual block's 3 convolutions.
        kernel: in-plane kernel size.
        slope: LeakyReLU negative slope.
    """

    def __init__(self, in_ch: int, out_ch: int, *, out_size: int,
                 dilations: tuple[int, ...] = (1, 1, 2, 4, 6, 8),
                 residual_dilations: tuple[int, ...] = (1, 2, 4), kernel: int = 3,
                 slope: float = 0.2) -> None:
        super().__init__()
        self.dilations = (1, *kept_dilations(tuple(dilations[1:]), out_size))
        self.residual_dilations = kept_dilations(tuple(residual_dilations), out_size)
        stack = [_SpatialConv(in_ch, out_ch, kernel, 1, 2, slope)]
        stack += [_SpatialConv(out_ch, out_ch, kernel, d, 1, slope) for d in self.dilations[1:]]
        self.stack = nn.Sequential(*stack)
        res = self.residual_dilations
        last = len(res) - 1
        self.residual = _Residual([_SpatialConv(out_ch, out_ch, kernel, d, 1, slope if i < last else None)
                                   for i, d in enumerate(res)], slope)

    def forward(self, x: Tensor) -> Tensor:
        return self.residual(self.stack(x))


def space_to_depth(x: Tensor, size: tuple[int, int]) -> Tensor:
    """(B, C, T, H*W) -> (B, 4C, T, H/2*W/2): each 2x2 cell's pixels become channels."""
    b, c, t, _ = x.shape
    h, w = size
    x = x.view(b, c, t, h // 2, 2, w // 2, 2).permute(0, 1, 4, 6, 2, 3, 5)
    return x.reshape(b, 4 * c, t, (h // 2) * (w // 2))


class TemporalPathway(nn.Module):
    """Temporal perceptual pathway of one SCLN block: (B, C_in, T, H*W) -> (B, C_out, T, H/2*W/2).

    Output frame t depends on input frames <= t only.

    Args:
        in_ch, out_ch: channels.
        frames: T (for dropping dilations not smaller than the sequence).
        dilations: dilations of the causal stack; the first (1) reads the 2x2 space-to-depth cells.
        residual_dilations: dilations of the residual block's 3 causal convolutions.
        kernel: taps along time.
        slope: LeakyReLU negative slope.
    """

    def __init__(self, in_ch: int, out_ch: int, *, frames: int,
                 dilations: tuple[int, ...] = (1, 1, 2, 4, 6, 8),
                 residual_dilations: tuple[int, ...] = (1, 2, 4), kernel: int = 3,
                 slope: float = 0.2) -> None:
        super().__init__()
        self.dilations = (1, *kept_dilations(tuple(dilations[1:]), frames))
        self.residual_dilations = kept_dilations(tuple(residual_dilations), frames)
        stack = [CausalTimeConv(4 * in_ch, out_ch, kernel, 1, slope)]
        stack += [CausalTimeConv(out_ch, out_ch, kernel, d, slope) for d in self.dilations[1:]]
        self.stack = nn.Sequential(*stack)
        res = self.residual_dilations
        last = len(res) - 1
        self.residual = _Residual([CausalTimeConv(out_ch, out_ch, kernel, d, slope if i < last else None)
                                   for i, d in enumerate(res)], slope)

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        """``x`` is (B, C, T, H*W) with in-plane ``size`` = (H, W)."""
        return self.residual(self.stack(space_to_depth(x, size)))
