"""Reference timings recorded beside the models benchmark: the float32 matrix-multiply rate, and the
two kernels that bound the networks' speed.

* the fused attention of the first SCLN block (N = 25*32*32 tokens, query/key 2 channels, value 16):
  forward, and forward + backward with and without the query split of
  :func:`pscgan.models.attention.attention`; reported per score (N^2 per call);
* the per-frame 3x3 convolution and the per-pixel (3, 1) causal convolution of the first block's
  pathways (16 channels, 25 frames of 32x32), as achieved FLOP/s.

Example:
    >>> r = attention_timings(threads=1, tokens=1024, repeats=1)
    >>> r["forward_s"] > 0 and r["scores"] == 1024 ** 2
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def _best(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_gflops(threads: int, size: int = 4096, repeats: int = 5) -> float:
    """Best float32 ``size x size`` matrix-multiply rate (GFLOP/s) on ``threads`` threads."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size ** 3 / _best(lambda: a @ b, repeats) / 1e9


def attention_timings(threads: int, tokens: int = 25 * 32 * 32, qk: int = 2, value: int = 16,
                      repeats: int = 2) -> dict[str, Any]:
    """Best-of-``repeats`` seconds of one fused attention call over ``tokens`` positions."""
    import torch

    from pscgan.models.attention import attention

    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, tokens, d, generator=g, requires_grad=True) for d in (qk, qk, value))

    def forward() -> None:
        with torch.no_grad():
            attention(q, k, v, impl="fused")

    def train(splits: int | None) -> Callable[[], None]:
        def run() -> None:
            attention(q, k, v, impl="fused", query_splits=splits).sum().backward()
        return run

    fwd = _best(forward, repeats)
    both = _best(train(None), repeats)
    unsplit = _best(train(1), repeats)
    scores = tokens * tokens
    return {"tokens": tokens, "qk_channels": qk, "value_channels": value, "scores": scores,
            "forward_s": fwd, "forward_backward_s": both, "forward_backward_unsplit_s": unsplit,
            "forward_scores_per_s": scores / fwd, "backward_s": both - fwd,
            "backward_unsplit_s": unsplit - fwd}


def convolution_timings(threads: int, channels: int = 16, frames: int = 25, size: int = 32,
                        repeats: int = 5) -> dict[str, Any]:
    """Achieved GFLOP/s of the first block's spatial (3x3) and temporal (3, 1) convolutions."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    frames_x = torch.randn(frames, channels, size, size, generator=g)
    seq_x = torch.randn(1, channels, frames, size * size, generator=g)
    w_s = torch.randn(channels, channels, 3, 3, generator=g)
    w_t = torch.randn(channels, channels, 3, 1, generator=g)
    flops = 2 * frames * size * size * channels * channels * 3
    with torch.no_grad():
        spatial = _best(lambda: F.conv2d(frames_x, w_s, padding=1), repeats)
        temporal = _best(lambda: F.conv2d(F.pad(seq_x, (0, 0, 2, 0)), w_t), repeats)
    return {"channels": channels, "frames": frames, "size": size,
            "spatial_3x3_gflops_per_s": 3 * flops / spatial / 1e9,
            "temporal_3x1_gflops_per_s": flops / temporal / 1e9}
