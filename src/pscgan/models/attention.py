"""Self-attention without the N x N matrix, and the SCLN's multi-attention weighing unit (section 4.1.2).

:func:`attention` computes ``softmax(scale * q k^T) v``. Small problems use the plain formula; large
ones go through :func:`torch.nn.functional.scaled_dot_product_attention`, whose CPU flash kernel
works block by block and never holds the N x N score matrix -- but only when query, key and value
share one head size (otherwise it falls back to the math path, 2.6 GB per matrix at the first SCLN
block). So the call zero-pads q, k and v to a common head size (a multiple of 8): zero columns change
neither q.k nor the kept output columns. The queries are also split into as many "heads" as torch has
threads, each attending to all keys: the result is identical, and the CPU backward kernel, which
parallelises over batch x heads only, then uses every core.

Layers work on token tensors (B, N, C) with N = T*H*W in (t, y, x) order:

* :class:`SelfAttention` -- SAGAN self-attention over all N positions (eq. 4-6): f, g (query, key) with
  C/8 channels, h (value) and the output projection v; output ``x + gamma * attn``, gamma starting at 0.
* :class:`FactorisedSelfAttention` -- the efficient option: attention within each frame (over H*W),
  then along time at each pixel (over T). Cost T*(HW)^2 + HW*T^2 instead of (T*HW)^2.
* :class:`MultiAttentionUnit` -- one layer on the spatial pathway output, one on the temporal pathway
  output, element-wise sum, a third layer on the sum.

Example:
    >>> import torch
    >>> q, k, v = torch.randn(1, 300, 2), torch.randn(1, 300, 2), torch.randn(1, 300, 16)
    >>> naive = torch.softmax(q @ k.transpose(1, 2), -1) @ v
    >>> torch.allclose(attention(q, k, v, impl="fused"), naive, atol=1e-5)
    True
"""

from __future__ import annotations

from enum import Enum

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pscgan.config.schema import AttentionMode

# Above this many score entries (batch x queries x keys) the fused kernel is used; below it the plain
# formula is as fast and supports double backward (WGAN-GP's gradient penalty in the discriminator).
NAIVE_MAX_SCORES = 1 << 22


class AttentionImpl(str, Enum):
    """How :func:`attention` computes: chosen by size (``auto``), or forced."""

    AUTO = "auto"
    NAIVE = "naive"
    FUSED = "fused"


def attention(q: Tensor, k: Tensor, v: Tensor, *, scale: float = 1.0,
              impl: AttentionImpl | str = AttentionImpl.AUTO, query_splits: int | None = None) -> Tensor:
    """``softmax(scale * q @ k^T) @ v`` for (B, N, d) tensors.

    Args:
        q: queries (B, N, d_qk).
        k: keys (B, M, d_qk).
        v: values (B, M, d_v).
        scale: logit scale; SAGAN and eq. (4) use plain dot products (1.0).
        impl: ``naive`` materialises the (B, N, M) scores; ``fused`` never does; ``auto`` picks naive
            for small problems and on the ``meta`` device (so FLOP counting sees the unpadded sizes).
        query_splits: query blocks run as separate heads by the fused kernel (default: torch's
            thread count; 1 reproduces a plain call, for benchmarking).

    Returns:
        (B, N, d_v) attention output.
    """
    impl = AttentionImpl(impl)
    if impl is AttentionImpl.AUTO:
        small = q.shape[0] * q.shape[1] * k.shape[1] <= NAIVE_MAX_SCORES
        impl = AttentionImpl.NAIVE if small or q.device.type == "meta" else AttentionImpl.FUSED
    if impl is AttentionImpl.NAIVE:
        scores = torch.bmm(q, k.transpose(1, 2))
        if scale != 1.0:
            scores = scores * scale
        return torch.bmm(torch.softmax(scores, dim=-1), v)
    return _fused_attention(q, k, v, scale, query_splits)


def _fused_attention(q: Tensor, k: Tensor, v: Tensor, scale: float, query_splits: int | None) -> Tensor:
    b, n, dqk = q.shape
    m, dv = k.shape[1], v.shape[2]
    head = -(-max(dqk, dv, 8) // 8) * 8
    q = F.pad(q, (0, head - dqk))
    k = F.pad(k, (0, head - dqk))
    v = F.pad(v, (0, head - dv))
    wanted = torch.get_num_threads() if query_splits is None else query_splits
    splits = max(1, min(wanted, n // 256))
    extra = (-n) % splits
    if extra:
        q = F.pad(q, (0, 0, 0, extra))
    q = q.view(b, splits, (n + extra) // splits, head)
    k = k.unsqueeze(1).expand(b, splits, m, head)
    v = v.unsqueeze(1).expand(b, splits, m, head)
    out = F.scaled_dot_product_attention(q, k, v, scale=scale)
    return out.reshape(b, n + extra, head)[:, :n, :dv]


class SelfAttention(nn.Module):
    """SAGAN self-attention over the tokens of a (B, N, C) tensor; output ``x + gamma * o``.

    Args:
        channels: C.
        qk_reduction: query/key channels are ``C // qk_reduction`` (paper: 8), at least 1.
        value_reduction: value channels are ``C // value_reduction``. Eq. (6) of the paper reduces the
            value to C/8 as well; the default (1, value with C channels, as in the widely used SAGAN
            code) is the architecture notes' reading.
    """

    def __init__(self, channels: int, *, qk_reduction: int = 8, value_reduction: int = 1) -> None:
        super().__init__()
        self.qk_channels = max(1, channels // qk_reduction)
        self.value_channels = max(1, channels // value_reduction)
        self.qkv = nn.Linear(channels, 2 * self.qk_channels + self.value_channels)
        self.out = nn.Linear(self.value_channels, channels)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor, grid: tuple[int, int] | None = None) -> Tensor:
        """Attend over all tokens; ``grid`` (T, H*W) is accepted for interface symmetry and unused."""
        q, k, v = self.qkv(x).split([self.qk_channels, self.qk_channels, self.value_channels], dim=-1)
        return x + self.gamma * self.out(attention(q, k, v))


class FactorisedSelfAttention(nn.Module):
    """Attention within each frame, then along time at each pixel (two SAGAN layers).

    The efficient SCLN option: it sees every position of the volume in two hops, at a fraction of
    the cost of full attention. Not in the paper.
    """

    def __init__(self, channels: int, *, qk_reduction: int = 8, value_reduction: int = 1) -> None:
        super().__init__()
        self.spatial = SelfAttention(channels, qk_reduction=qk_reduction, value_reduction=value_reduction)
        self.temporal = SelfAttention(channels, qk_reduction=qk_reduction, value_reduction=value_reduction)

    def forward(self, x: Tensor, grid: tuple[int, int] | None = None) -> Tensor:
        if grid is None:
            raise ValueError("factorised attention needs the token grid (frames, pixels per frame)")
        b, n, c = x.shape
        t, p = grid
        x = self.spatial(x.reshape(b * t, p, c)).view(b, t, p, c)
        x = self.temporal(x.transpose(1, 2).reshape(b * p, t, c)).view(b, p, t, c)
        return x.transpose(1, 2).reshape(b, n, c)


def _make_layer(mode: AttentionMode, channels: int, qk_reduction: int, value_reduction: int) -> nn.Module:
    cls = SelfAttention if mode is AttentionMode.FULL else FactorisedSelfAttention
    return cls(channels, qk_reduction=qk_reduction, value_reduction=value_reduction)


class MultiAttentionUnit(nn.Module):
    """The multi-attention weighing unit: ``A3(A1(F_S) + A2(F_T))`` (eq. 7 and the text after it).

    Each layer is SAGAN-style (``x + gamma * o``, gamma starting at 0), so the unit starts as the plain
    sum of the pathways. With ``mode=none`` the unit is removed and the pathway outputs are added.
    When only one pathway is built, the unit weighs that one (A1 or A2) and then applies A3.

    Args:
        channels: C of both pathway outputs.
        mode: full / factorised / none.
        spatial, temporal: which pathway outputs will be passed.
    """

    def __init__(self, channels: int, mode: AttentionMode, *, spatial: bool = True, temporal: bool = True,
                 qk_reduction: int = 8, value_reduction: int = 1) -> None:
        super().__init__()
        self.mode = mode
        self.spatial: nn.Module | None = None
        self.temporal: nn.Module | None = None
        self.fused: nn.Module | None = None
        if mode is not AttentionMode.NONE:
            if spatial:
                self.spatial = _make_layer(mode, channels, qk_reduction, value_reduction)
            if temporal:
                self.temporal = _make_layer(mode, channels, qk_reduction, value_reduction)
            self.fused = _make_layer(mode, channels, qk_reduction, value_reduction)

    def forward(self, spatial: Tensor | None, temporal: Tensor | None, grid: tuple[int, int]) -> Tensor:
        """Fuse (B, N, C) token tensors of the two pathways (either may be None) into (B, N, C)."""
        parts = []
        for tokens, layer in ((spatial, self.spatial), (temporal, self.temporal)):
            if tokens is not None:
                parts.append(tokens if layer is None else layer(tokens, grid))
        if not parts:
            raise ValueError("the attention unit needs at least one pathway output")
        fused = parts[0] if len(parts) == 1 else parts[0] + parts[1]
        return fused if self.fused is None else self.fused(fused, grid)
