from __future__ import annotations

import torch

from pscgan.models.attention import SelfAttention
from pscgan.models.flops import count_flops


def test_conv_and_linear_counts():
    with torch.device("meta"):
        conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        x = torch.zeros(2, 3, 10, 10)
    assert count_flops(lambda: conv(x)) == 2 * 2 * 8 * 10 * 10 * 3 * 9


def test_self_attention_counts_the_models_own_sizes():
    n, c = 3000, 16
    with torch.device("meta"):
        layer = SelfAttention(c)
        x = torch.zeros(1, n, c)
    projections = 2 * n * c * (2 * 2 + 16) + 2 * n * 16 * c
    assert count_flops(lambda: layer(x)) == projections + 2 * n * n * (2 + 16)


def test_backward_is_counted():
    with torch.device("meta"):
        lin = torch.nn.Linear(10, 20)
        x = torch.zeros(4, 10, requires_grad=True)
    assert count_flops(lambda: lin(x).sum().backward()) == 3 * 2 * 4 * 10 * 20
