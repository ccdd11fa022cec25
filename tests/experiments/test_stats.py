"""Seed summaries and the paired Wilcoxon test, cross-checked by brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pscgan.experiments.stats import compare_variants, paired_wilcoxon, seed_summary


def exact_signed_rank_p(diff: np.ndarray) -> float:
    """Two-sided exact p-value of the signed-rank statistic by enumerating every sign pattern."""
    ranks = np.argsort(np.argsort(np.abs(diff))) + 1  # no ties in the test data
    r_plus = ranks[diff > 0].sum()
    t = min(r_plus, ranks.sum() - r_plus)
    patterns = itertools.product((0, 1), repeat=len(ranks))
    sums = [sum(r for r, s in zip(ranks, signs, strict=True) if s) for signs in patterns]
    return min(1.0, 2 * float(np.mean(np.array(sums) <= t)))


@pytest.mark.parametrize("seed", range(4))
def test_wilcoxon_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    n = 9
    ref = rng.normal(0.7, 0.1, n)
    diff = rng.permutation(np.linspace(0.01, 0.09, n)) * rng.choice([-1, 1], n)  # distinct |d|, no zeros
    var = ref + diff
    keys = [(str(i % 3), f"s{i}") for i in range(n)]
    test = paired_wilcoxon(dict(zip(keys, ref, strict=True)), dict(zip(keys, var, strict=True)))
    assert test.n == n and test.n_excluded == 0
    assert test.p_value == pytest.approx(exact_signed_rank_p(var - ref), rel=1e-9)
    assert test.median_difference == pytest.approx(float(np.median(var - ref)))


def test_undefined_values_are_excluded_and_counted():
    ref = {("0", "a"): 0.5, ("0", "b"): None, ("0", "c"): 0.4, ("1", "a"): float("nan")}
    var = {("0", "a"): 0.6, ("0", "b"): 0.7, ("0", "c"): 0.3, ("1", "a"): 0.2, ("1", "z"): 0.1}
    test = paired_wilcoxon(ref, var)
    assert (test.n, test.n_excluded) == (2, 3)
    assert paired_wilcoxon({}, {}).p_value is None
    same = paired_wilcoxon({("0", "a"): 0.5, ("0", "b"): 0.2}, {("0", "a"): 0.5, ("0", "b"): 0.2})
    assert same.n == 2 and same.p_value is None and same.median_difference == 0.0


def test_seed_summary_and_comparison():
    s = seed_summary([0.5, None, 0.7])
    assert (
        s.mean == pytest.approx(0.6)
        and s.sd == pytest.approx(np.std([0.5, 0.7], ddof=1))
        and s.n_undefined == 1
    )
    runs = {
        "full": [{"seed": 0, "metrics": {"dice": 0.8}, "subjects": {"a": {"dice": 0.8}, "b": {"dice": 0.7}}}],
        "other": [
            {"seed": 0, "metrics": {"dice": 0.6}, "subjects": {"a": {"dice": 0.5}, "b": {"dice": 0.6}}}
        ],
    }
    out = compare_variants(runs, "full", ("dice",), ("dice",))
    assert out["full"]["tests"] == {} and out["other"]["metrics"]["dice"]["mean"] == 0.6
    assert out["other"]["tests"]["dice"]["n"] == 2
    assert out["other"]["tests"]["dice"]["median_difference"] == pytest.approx(-0.2)
