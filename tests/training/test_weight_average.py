"""The generator's weight average: its update rule and the ramp of its decay."""

from __future__ import annotations

import pytest
import torch

from pscgan.training.weight_average import average_copy, ramped_decay, update_average


def test_update_matches_the_exponential_average_formula():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.GroupNorm(1, 3))
    average = average_copy(net)
    assert all(not p.requires_grad for p in average.parameters())
    expected = [p.detach().clone() for p in net.parameters()]
    for step in range(5):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p))
        decay = ramped_decay(0.99, step)
        expected = [decay * e + (1 - decay) * p.detach() for e, p in zip(expected, net.parameters())]
        update_average(average, net, decay)
    for e, a in zip(expected, average.parameters()):
        torch.testing.assert_close(a, e, rtol=1e-6, atol=1e-6)
    # the trained network is untouched by the average
    assert all(p.requires_grad for p in net.parameters())


@pytest.mark.parametrize(("step", "expected"), [(0, 0.1), (8, 0.5), (80, 0.9), (10**7, 0.999)])
def test_decay_ramps_up_to_its_setting(step, expected):
    assert ramped_decay(0.999, step) == pytest.approx(expected)


def test_decay_of_one_is_refused_by_the_config():
    from pydantic import ValidationError

    from pscgan.config.schema import TrainConfig

    with pytest.raises(ValidationError, match="generator_ema_decay"):
        TrainConfig(generator_ema_decay=1.0)
    assert TrainConfig().generator_ema_decay is None  # the paper's default: no average
