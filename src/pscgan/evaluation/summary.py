"""Summaries of per-sample metric values, with undefined values kept out of the means.

A Dice coefficient between two empty masks, or a scar ratio of a slice without myocardium, is not
defined: it is neither 0 nor 1 and must not be averaged as a number. Such values are stored as
``None`` and counted separately.

Example:
    >>> s = summarise([0.5, None, 1.0])
    >>> s.mean, s.n, s.n_undefined
    (0.75, 2, 1)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from typing_extensions import TypeIs


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation (ddof=1), median and counts of the defined values."""

    mean: float | None
    sd: float | None
    median: float | None
    n: int
    n_undefined: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self, digits: int = 3, scale: float = 1.0, suffix: str = "") -> str:
        """``mean (sd)`` as in the paper's tables, or ``n/a`` when nothing is defined."""
        if self.mean is None:
            return "n/a"
        sd = f" ({self.sd * scale:.{digits}f})" if self.sd is not None else ""
        return f"{self.mean * scale:.{digits}f}{suffix}{sd}"


def is_defined(value: float | None) -> TypeIs[float]:
    return value is not None and math.isfinite(value)


def summarise(values: Iterable[float | None]) -> Summary:
    """Summarise values, skipping ``None``/NaN/inf (counted in ``n_undefined``)."""
    vals = list(values)
    defined = np.array([v for v in vals if is_defined(v)], dtype=np.float64)
    n_undef = len(vals) - defined.size
    if defined.size == 0:
        return Summary(None, None, None, 0, n_undef)
    sd = float(defined.std(ddof=1)) if defined.size > 1 else None
    return Summary(float(defined.mean()), sd, float(np.median(defined)), int(defined.size), n_undef)


def gather_across_ranks(values: Sequence[Any]) -> list[Any]:
    """Concatenate per-rank lists when running under ``torch.distributed``; identity otherwise."""
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch is a dependency
        return list(values)
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return list(values)
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, list(values))
    return [v for part in gathered for v in part]
