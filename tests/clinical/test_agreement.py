from __future__ import annotations

import numpy as np
import pytest

from pscgan.clinical.agreement import (
    bland_altman,
    diagnostic_accuracy,
    pearson,
    roc_auc,
    transmurality_class,
)


def test_pearson_matches_numpy_and_skips_undefined():
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    y = x + rng.normal(scale=0.5, size=30)
    c = pearson(list(x) + [None], list(y) + [1.0])
    assert c.r == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert c.n == 30 and c.n_excluded == 1
    assert 0 <= c.p_value < 1e-3


def test_pearson_undefined_cases():
    assert pearson([1, 2], [1, 2]).r is None
    assert pearson([1, 1, 1], [1, 2, 3]).r is None


def test_bland_altman_hand_values():
    ba = bland_altman([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    d = np.array([1.0, 2.0, 3.0])
    assert ba.bias == pytest.approx(2.0)
    assert ba.upper == pytest.approx(2.0 + 1.96 * d.std(ddof=1))
    assert bland_altman([1.0], [1.0]).bias is None


def test_diagnostic_accuracy_counts():
    d = diagnostic_accuracy([1, 1, 0, 0, 1], [1, 0, 0, 1, 1])
    assert (d.tp, d.fp, d.tn, d.fn) == (2, 1, 1, 1)
    assert d.sensitivity == pytest.approx(2 / 3) and d.specificity == pytest.approx(0.5)
    assert d.ppv == pytest.approx(2 / 3) and d.npv == pytest.approx(0.5)
    assert diagnostic_accuracy([0, 0], [0, 0]).sensitivity is None


def test_auc_against_rank_formula():
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(1)
    truth = rng.random(60) < 0.4
    scores = truth * 0.5 + rng.random(60)
    u = mannwhitneyu(scores[truth], scores[~truth]).statistic
    assert roc_auc(scores, truth) == pytest.approx(u / (truth.sum() * (~truth).sum()))
    assert roc_auc([0.1, 0.2], [True, True]) is None


@pytest.mark.parametrize("t,cls", [(0.0, 0), (0.1, 1), (0.25, 1), (0.26, 2), (0.5, 2), (0.51, 3),
                                   (0.75, 3), (0.8, 4), (1.0, 4), (None, None)])
def test_transmurality_classes(t, cls):
    assert transmurality_class(t) == cls
