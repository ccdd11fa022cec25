from __future__ import annotations

import numpy as np
import pytest

from pscgan.report.figures import agreement_figure, agreement_png, defined_pairs


def test_defined_pairs_drop_undefined_sides():
    x, y = defined_pairs([1.0, None, 3.0, float("nan")], [2.0, 2.0, None, 4.0])
    assert x.tolist() == [1.0] and y.tolist() == [2.0]


def test_bland_altman_lines_and_pearson_title():
    rng = np.random.default_rng(0)
    ref = rng.uniform(1, 20, 12)
    pred = ref + rng.normal(0.5, 1.0, 12)
    fig = agreement_figure(list(pred) + [None], list(ref) + [3.0], quantity="scar volume", unit="ml")
    corr_ax, ba_ax = fig.axes
    d = pred - ref
    bias, sd = d.mean(), d.std(ddof=1)
    horizontal = sorted({round(float(line.get_ydata()[0]), 9) for line in ba_ax.get_lines()})
    assert horizontal == pytest.approx(sorted([0.0, bias - 1.96 * sd, bias, bias + 1.96 * sd]))
    assert f"Pearson r = {np.corrcoef(pred, ref)[0, 1]:.3f}" in corr_ax.get_title()
    assert "(n = 12)" in corr_ax.get_title()
    np.testing.assert_allclose(ba_ax.collections[0].get_offsets(), np.c_[(pred + ref) / 2, d])


def test_too_few_pairs_still_draws():
    png = agreement_png([1.0], [1.2], quantity="scar ratio", unit="%")
    assert png[:4] == b"\x89PNG"
