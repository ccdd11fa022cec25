"""Signal equations against the spec's worked examples and an independent simplification."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.phantom.contrast import bssfp_signal, ir_signal, layer_signals, post_contrast_t1, ti_null
from pscgan.phantom.params import sample_subject


def test_spec_lge_worked_example() -> None:
    # spec 3: 1.5T, RR 1 s (inversion every 2nd beat), T1 blood 240 / myo 400 / scar 200 ms, TI 276 ms
    t_ir = 2000.0
    assert ir_signal(1.0, 200.0, 276.0, t_ir) == pytest.approx(0.50, abs=0.005)
    assert ir_signal(1.0, 240.0, 276.0, t_ir) == pytest.approx(0.37, abs=0.005)
    assert abs(ir_signal(1.0, 400.0, 276.0, t_ir)) < 0.01
    assert ir_signal(1.0, 400.0, ti_null(400.0, t_ir), t_ir) == pytest.approx(0.0, abs=1e-12)


def test_post_contrast_t1_partition_model() -> None:
    # myocardium T1 1000 ms, lambda = 0.254 / (1 - 0.41), blood 1550 -> 240 ms: close to the spec's 400 ms
    t1 = post_contrast_t1(1000.0, 0.254 / 0.59, 1550.0, 240.0)
    assert 380 < t1 < 420
    assert post_contrast_t1(1550.0, 1.0, 1550.0, 240.0) == pytest.approx(240.0)
    assert post_contrast_t1(330.0, 0.0, 1550.0, 240.0) == pytest.approx(330.0)


def test_bssfp_matches_the_short_tr_approximation() -> None:
    # TR << T1, T2: S ~ PD sin(a) / ((T1/T2 + 1) - cos(a) (T1/T2 - 1)) exp(-TE/T2) (spec 3)
    for t1, t2, pd in ((1000.0, 53.0, 0.8), (1550.0, 270.0, 0.95), (325.0, 70.0, 0.8)):
        a = np.deg2rad(60.0)
        approx = pd * np.sin(a) / ((t1 / t2 + 1) - np.cos(a) * (t1 / t2 - 1)) * np.exp(-1.5 / t2)
        assert bssfp_signal(pd, t1, t2, a, 3.0, 1.5) == pytest.approx(approx, rel=0.03)


def test_null_times_at_1_5t_and_cine_ratios() -> None:
    tis, ratios = [], []
    for seed in range(150):
        p = sample_subject(seed, normal=False)
        s = layer_signals(p)
        ratios.append(s.cine["blood"] / s.cine["myocardium"])
        if p.field_strength_t < 2:
            tis.append(s.ti_ms / (1 + p.contrast.ti_error))
        # physical cine scar contrast: 5-12% darker in the spec; the rendered one is the sampled value
        assert s.cine["scar"] / s.cine["myocardium"] - 1 == pytest.approx(p.contrast.cine_scar_contrast)
        assert s.lge["scar"] > s.lge["myocardium"]
    assert 200 < min(tis) and max(tis) < 420      # spec: 240-330 ms at 1.5T for typical values
    assert 240 < np.median(tis) < 330
    assert 2.9 <= np.median(ratios) <= 3.4        # spec 3 [S]: blood/myocardium ~2.9-3.4
    assert min(ratios) > 2.0 and max(ratios) < 4.2
