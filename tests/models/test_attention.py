from __future__ import annotations

import pytest
import torch

from pscgan.config.schema import AttentionMode
from pscgan.models.attention import (
    FactorisedSelfAttention,
    MultiAttentionUnit,
    SelfAttention,
    attention,
)


def naive(q, k, v):
    return torch.softmax(q @ k.transpose(1, 2), dim=-1) @ v


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("b,n,m,dq,dv", [(1, 601, 601, 2, 16), (2, 300, 300, 8, 8), (1, 513, 257, 3, 5),
                                         (3, 40, 40, 1, 1)])
def test_fused_attention_equals_naive(two_threads, b, n, m, dq, dv):
    g = torch.Generator().manual_seed(n)
    q = torch.randn(b, n, dq, generator=g, requires_grad=True)
    k = torch.randn(b, m, dq, generator=g, requires_grad=True)
    v = torch.randn(b, m, dv, generator=g, requires_grad=True)
    fused = attention(q, k, v, impl="fused")
    ref = naive(q, k, v)
    torch.testing.assert_close(fused, ref, atol=2e-5, rtol=1e-4)
    w = torch.randn(ref.shape, generator=g)
    grads_fused = torch.autograd.grad((fused * w).sum(), (q, k, v))
    grads_ref = torch.autograd.grad((ref * w).sum(), (q, k, v))
    for a, r in zip(grads_fused, grads_ref, strict=True):
        torch.testing.assert_close(a, r, atol=1e-4, rtol=1e-3)


def test_fused_attention_never_allocates_the_score_matrix(two_threads):
    n = 4096  # N x N float32 = 64 MiB
    q, k, v = torch.randn(1, n, 2), torch.randn(1, n, 2), torch.randn(1, n, 16)
    cpu = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=cpu, profile_memory=True) as prof:
        attention(q, k, v, impl="fused")
    largest = max(e.cpu_memory_usage for e in prof.events())
    assert 0 < largest < n * n * 4 // 16


def test_auto_uses_naive_on_meta_so_flops_are_unpadded():
    from pscgan.models.flops import count_flops

    with torch.device("meta"):
        q, k, v = torch.zeros(1, 5000, 2), torch.zeros(1, 5000, 2), torch.zeros(1, 5000, 16)
    assert count_flops(lambda: attention(q, k, v)) == 2 * 5000 * 5000 * (2 + 16)


def sagan_reference(layer: SelfAttention, x: torch.Tensor) -> torch.Tensor:
    """SAGAN written out with explicit weights: x + gamma * Wv softmax(f g^T) h."""
    w, b = layer.qkv.weight, layer.qkv.bias
    dq, dv = layer.qk_channels, layer.value_channels
    f = x @ w[:dq].T + b[:dq]
    g = x @ w[dq:2 * dq].T + b[dq:2 * dq]
    h = x @ w[2 * dq:].T + b[2 * dq:]
    assert h.shape[-1] == dv
    return x + layer.gamma * (naive(f, g, h) @ layer.out.weight.T + layer.out.bias)


def test_self_attention_matches_sagan_formula():
    torch.manual_seed(0)
    layer = SelfAttention(16)
    layer.gamma.data.fill_(0.7)
    x = torch.randn(2, 50, 16)
    torch.testing.assert_close(layer(x), sagan_reference(layer, x))
    assert layer.qk_channels == 2 and layer.value_channels == 16


def test_gamma_starts_at_zero_so_layer_is_identity():
    x = torch.randn(1, 10, 8)
    assert torch.equal(SelfAttention(8)(x), x)


def test_factorised_attention_is_frame_then_pixel_attention():
    torch.manual_seed(1)
    t, p, c = 3, 5, 8
    layer = FactorisedSelfAttention(c)
    layer.spatial.gamma.data.fill_(0.5)
    layer.temporal.gamma.data.fill_(-0.3)
    x = torch.randn(2, t * p, c)
    expected = torch.empty_like(x).view(2, t, p, c)
    grid = x.view(2, t, p, c)
    for b in range(2):
        frames = torch.stack([sagan_reference(layer.spatial, grid[b, i][None])[0] for i in range(t)])
        for j in range(p):
            expected[b, :, j] = sagan_reference(layer.temporal, frames[:, j][None])[0]
    torch.testing.assert_close(layer(x, (t, p)), expected.view(2, t * p, c))


@pytest.mark.parametrize("mode", [AttentionMode.FULL, AttentionMode.FACTORISED])
def test_unit_is_third_layer_on_sum_of_first_two(mode):
    torch.manual_seed(2)
    unit = MultiAttentionUnit(8, mode)
    for p in (unit.spatial, unit.temporal, unit.fused):
        for gamma in (m for n, m in p.named_parameters() if n.endswith("gamma")):
            gamma.data.fill_(0.4)
    fs, ft = torch.randn(1, 12, 8), torch.randn(1, 12, 8)
    expected = unit.fused(unit.spatial(fs, (3, 4)) + unit.temporal(ft, (3, 4)), (3, 4))
    torch.testing.assert_close(unit(fs, ft, (3, 4)), expected)
    if mode is AttentionMode.FULL:
        fused = sagan_reference(unit.spatial, fs) + sagan_reference(unit.temporal, ft)
        manual = sagan_reference(unit.fused, fused)
        torch.testing.assert_close(unit(fs, ft, (3, 4)), manual)


def test_unit_off_adds_pathways_and_single_pathway_is_weighed():
    fs, ft = torch.randn(1, 6, 8), torch.randn(1, 6, 8)
    off = MultiAttentionUnit(8, AttentionMode.NONE)
    assert torch.equal(off(fs, ft, (2, 3)), fs + ft)
    only_s = MultiAttentionUnit(8, AttentionMode.FULL, temporal=False)
    assert only_s.temporal is None and only_s.spatial is not None
    assert only_s(fs, None, (2, 3)).shape == fs.shape
    with pytest.raises(ValueError, match="at least one"):
        off(None, None, (2, 3))
