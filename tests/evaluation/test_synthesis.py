"""Synthesis metrics, cross-checked against MONAI and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pscgan.evaluation.summary import summarise
from pscgan.evaluation.synthesis import SynthesisMetrics, to_unit_range


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:64, :64]
    ref = np.tanh(np.sin(xx / 7.0) + np.cos(yy / 5.0)).astype(np.float32)[None]
    pred = np.clip(ref + rng.normal(0, 0.1, ref.shape), -1, 1).astype(np.float32)
    return pred, ref


def test_psnr_and_nrmse_closed_form():
    pred, ref = _pair()
    m = SynthesisMetrics()
    m(pred, ref)
    agg = m.aggregate()
    p, r = to_unit_range(pred[0]), to_unit_range(ref[0])
    assert agg["psnr_db"].mean == pytest.approx(10 * np.log10(1.0 / np.mean((p - r) ** 2)))
    assert agg["nrmse"].mean == pytest.approx(np.linalg.norm(p - r) / np.linalg.norm(r))


def test_psnr_matches_monai():
    from monai.metrics import PSNRMetric

    pred, ref = _pair(1)
    m = SynthesisMetrics()
    m(pred, ref)
    theirs = PSNRMetric(max_val=1.0)(torch.from_numpy(to_unit_range(pred)[None]),
                                     torch.from_numpy(to_unit_range(ref)[None]))
    assert m.aggregate()["psnr_db"].mean == pytest.approx(float(theirs.mean()), rel=1e-5)


def test_ssim_agrees_with_monai_uniform_window():
    from monai.metrics import SSIMMetric

    pred, ref = _pair(2)
    m = SynthesisMetrics()
    m(pred, ref)
    # MONAI with the same 7x7 uniform window; scikit-image uses the unbiased (N-1) covariance,
    # MONAI the same, so the two agree closely away from the borders.
    theirs = SSIMMetric(spatial_dims=2, data_range=1.0, kernel_type="uniform", win_size=7)(
        torch.from_numpy(to_unit_range(pred)[None]).float(),
        torch.from_numpy(to_unit_range(ref)[None]).float(),
    )
    assert m.aggregate()["ssim"].mean == pytest.approx(float(theirs.mean()), abs=0.02)


def test_identical_images():
    _, ref = _pair()
    m = SynthesisMetrics()
    m(ref, ref)
    agg = m.aggregate()
    assert agg["ssim"].mean == pytest.approx(1.0)
    assert agg["psnr_db"].n_undefined == 1  # infinite PSNR is reported as undefined, not inf
    assert agg["nrmse"].mean == 0.0


def test_summary_format():
    s = summarise([0.7, 0.8, 0.9])
    assert s.format(2) == "0.80 (0.10)"
    assert summarise([None]).format() == "n/a"
