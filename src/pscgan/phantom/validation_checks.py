"""A measured number beside its expected range: the unit of the phantom validation report.

Each :class:`Check` holds the per-item values it summarises and a rule saying how they are compared
with the range: the median, the central 90 % (5th and 95th percentiles), every value, a single value,
or a proportion whose 95 % Wilson confidence interval must overlap the range (so that a small cohort is
not failed on sampling noise alone). A check without a range is informative only.

Example:
    >>> c = Check.summarise("x", "function", "a ratio", [1.0, 2.0, 3.0], low=1.5, high=2.5, rule=Rule.MEDIAN)
    >>> c.value, c.status.value
    (2.0, 'pass')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np


class Rule(str, Enum):
    """How a check's values are compared with its range."""

    MEDIAN = "median"
    CENTRAL_90 = "central 90%"
    ALL = "all values"
    VALUE = "value"
    PROPORTION = "proportion (95% CI overlaps)"


class Status(str, Enum):
    """Outcome of a check."""

    PASS = "pass"
    FAIL = "fail"
    INFO = "info"
    NO_DATA = "no data"


@dataclass
class Check:
    """One measured quantity with its expected range.

    Attributes:
        key: stable identifier (used in ``validation.json``).
        group: section of the report (``function``, ``contrast``, ``scar``, ``consistency``, ``reference``).
        description: what was measured, in words.
        value: the number compared with the range (median, value or proportion; see ``rule``).
        low, high: the expected range (``None``: open on that side; both ``None``: informative).
        rule: how ``value``/the values are compared.
        unit: unit of ``value``.
        source: where the range comes from (the phantom spec section and its literature tags).
        n: how many items were summarised.
        p5, p95, minimum, maximum: spread of the items (``None`` for single values).
        ci: 95 % confidence interval of a proportion.
        note: caveats.
    """

    key: str
    group: str
    description: str
    value: float | None
    low: float | None = None
    high: float | None = None
    rule: Rule = Rule.VALUE
    unit: str = ""
    source: str = ""
    n: int = 0
    p5: float | None = None
    p95: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    ci: tuple[float, float] | None = None
    note: str = ""

    @classmethod
    def summarise(cls, key: str, group: str, description: str, values: Sequence[float | None] | np.ndarray, *,
                  rule: Rule = Rule.MEDIAN, **kwargs: Any) -> Check:
        """A check over many items: the median and spread of the finite ``values``."""
        v = np.asarray([x for x in values if x is not None], float)
        v = v[np.isfinite(v)]
        if v.size == 0:
            return cls(key, group, description, None, rule=rule, **kwargs)
        p5, med, p95 = (float(x) for x in np.percentile(v, [5, 50, 95]))
        return cls(key, group, description, med, rule=rule, n=int(v.size), p5=p5, p95=p95,
                   minimum=float(v.min()), maximum=float(v.max()), **kwargs)

    @classmethod
    def proportion(cls, key: str, group: str, description: str, k: int, n: int, **kwargs: Any) -> Check:
        """A check of ``k`` out of ``n`` items with a 95 % Wilson interval."""
        from scipy.stats import binomtest

        if n == 0:
            return cls(key, group, description, None, rule=Rule.PROPORTION, **kwargs)
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        return cls(key, group, description, k / n, rule=Rule.PROPORTION, n=n,
                   ci=(float(ci.low), float(ci.high)), **kwargs)

    @property
    def status(self) -> Status:
        if self.value is None:
            return Status.NO_DATA
        if self.low is None and self.high is None:
            return Status.INFO
        lo = -np.inf if self.low is None else self.low
        hi = np.inf if self.high is None else self.high
        if self.rule is Rule.CENTRAL_90:
            inside = self.p5 is not None and self.p95 is not None and lo <= self.p5 and self.p95 <= hi
        elif self.rule is Rule.ALL:
            inside = (self.minimum is not None and self.maximum is not None
                      and lo <= self.minimum and self.maximum <= hi)
        elif self.rule is Rule.PROPORTION and self.ci is not None:
            inside = self.ci[0] <= hi and self.ci[1] >= lo
        else:
            inside = lo <= self.value <= hi
        return Status.PASS if inside else Status.FAIL

    def range_text(self) -> str:
        """The range as text, e.g. ``2.5 - 4``, ``>= 3`` or ``-``."""
        if self.low is None and self.high is None:
            return "-"
        if self.high is None:
            return f">= {self.low:g}"
        if self.low is None:
            return f"<= {self.high:g}"
        return f"{self.low:g} - {self.high:g}"

    def spread_text(self) -> str:
        """The spread of the items, e.g. ``5-95%: 2.7-3.6`` or a confidence interval."""
        if self.ci is not None:
            return f"95% CI {self.ci[0]:.3g}-{self.ci[1]:.3g}"
        if self.p5 is not None and self.n > 1:
            return f"5-95%: {self.p5:.3g} to {self.p95:.3g}"
        return ""

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "group": self.group, "description": self.description, "value": self.value,
                "unit": self.unit, "range": [self.low, self.high], "rule": self.rule.value,
                "status": self.status.value, "n": self.n, "p5": self.p5, "p95": self.p95,
                "min": self.minimum, "max": self.maximum, "ci95": list(self.ci) if self.ci else None,
                "source": self.source, "note": self.note}
