"""Statistics of an experiment: mean (sd) over seeds, and a paired test of each variant against the
reference.

The paired test is the two-sided Wilcoxon signed-rank test (:func:`scipy.stats.wilcoxon`, zero
differences dropped) on per-test-subject values, paired by (seed, subject) and pooled across seeds:
the variant trained with seed k is compared with the reference trained with seed k on the same
subject. Pairs where either value is undefined are left out and counted. A cohort statistic such as
Pearson's r has no per-subject values and gets no test.

Example:
    >>> t = paired_wilcoxon({("0", "a"): 0.9, ("0", "b"): 0.8, ("0", "c"): 0.7},
    ...                     {("0", "a"): 0.5, ("0", "b"): 0.6, ("0", "c"): None})
    >>> t.n, t.n_excluded, round(t.p_value, 3)
    (2, 1, 0.5)
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import numpy as np

from pscgan.evaluation.summary import Summary, is_defined, summarise

#: The key pairing a reference value with a variant value (e.g. (seed, subject)).
K = TypeVar("K", bound=Hashable)

TEST_NAME = "two-sided Wilcoxon signed-rank test (scipy.stats.wilcoxon), pairs = (seed, test subject)"


@dataclass(frozen=True)
class PairedTest:
    """Result of a paired comparison of a variant with the reference.

    Attributes:
        n: pairs with both values defined.
        n_excluded: pairs left out because a value was undefined (or missing on one side).
        median_difference: median of variant minus reference (``None`` without pairs).
        statistic: the Wilcoxon statistic (``None`` when the test is not defined).
        p_value: two-sided p-value (``None`` when not defined: no pairs, or all differences zero).
    """

    n: int
    n_excluded: int
    median_difference: float | None
    statistic: float | None
    p_value: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def paired_wilcoxon(reference: Mapping[K, float | None], variant: Mapping[K, float | None]) -> PairedTest:
    """Wilcoxon signed-rank test of ``variant`` against ``reference`` over their common keys."""
    from scipy.stats import wilcoxon

    keys = sorted(set(reference) | set(variant), key=str)
    both = [k for k in keys if is_defined(reference.get(k)) and is_defined(variant.get(k))]
    excluded = len(keys) - len(both)
    if not both:
        return PairedTest(0, excluded, None, None, None)
    diff = np.array([float(v) - float(r) for k in both
                     if (v := variant[k]) is not None and (r := reference[k]) is not None])  # (all of both)
    median = float(np.median(diff))
    if not np.any(diff != 0):
        return PairedTest(len(both), excluded, median, None, None)
    result = wilcoxon(diff, zero_method="wilcox", alternative="two-sided")
    return PairedTest(len(both), excluded, median, float(result.statistic), float(result.pvalue))


def seed_summary(values: list[float | None]) -> Summary:
    """Mean and sample sd (ddof=1) over seeds; undefined values are counted, not averaged."""
    return summarise(values)


def compare_variants(runs: Mapping[str, list[dict[str, Any]]], reference: str, metrics: tuple[str, ...],
                     paired: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Per variant: ``{"metrics": {m: Summary dict + values}, "tests": {m: PairedTest dict}}``.

    Args:
        runs: variant name -> finished runs, each ``{"seed": s, "metrics": {...}, "subjects": {sid: {...}}}``.
        reference: the reference variant's name (gets no tests).
        metrics: run-level metrics to summarise over seeds.
        paired: metrics that have per-subject values and are tested.
    """
    ref_runs = runs.get(reference, [])
    out: dict[str, dict[str, Any]] = {}
    for name, variant_runs in runs.items():
        summary: dict[str, Any] = {}
        for m in metrics:
            values = [r["metrics"].get(m) for r in variant_runs]
            summary[m] = seed_summary(values).as_dict() | {"values": values}
        tests: dict[str, Any] = {}
        if name != reference and ref_runs:
            for m in paired:
                tests[m] = paired_wilcoxon(
                    _by_seed_subject(ref_runs, m), _by_seed_subject(variant_runs, m)
                ).as_dict()
        out[name] = {"seeds": [r["seed"] for r in variant_runs], "metrics": summary, "tests": tests}
    return out


def _by_seed_subject(runs: list[dict[str, Any]], metric: str) -> dict[tuple[str, str], float | None]:
    return {(str(r["seed"]), sid): values.get(metric) for r in runs for sid, values in r["subjects"].items()}
