"""Cohort agreement figures: correlation and Bland-Altman plots of predicted vs reference values.

Statistics come from :mod:`pscgan.clinical.agreement` (Pearson via scipy; Bland-Altman bias and 95 %
limits of agreement, bias +- 1.96 sd); pairs with an undefined side are left out and counted there.

Example:
    >>> png = agreement_png([1.0, 2.0, 3.5, 4.0], [1.2, 2.1, 3.0, 4.4], quantity="scar volume", unit="ml")
    >>> png[:4]
    b'\\x89PNG'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pscgan.clinical.agreement import BlandAltman, Correlation, bland_altman, pearson
from pscgan.report.panels import figure_png

POINT_COLOUR = "#0072B2"
LIMIT_COLOUR = "#D55E00"


def defined_pairs(pred: Sequence[float | None], ref: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """The pairs where both values are defined, as two float arrays."""
    keep = [
        (p, r)
        for p, r in zip(pred, ref, strict=True)
        if p is not None and r is not None and np.isfinite(p) and np.isfinite(r)
    ]
    arr = np.asarray(keep, np.float64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def _correlation(ax: Any, x: np.ndarray, y: np.ndarray, corr: Correlation, label: str) -> None:
    ax.scatter(y, x, s=22, color=POINT_COLOUR, alpha=0.85, edgecolors="white", linewidths=0.5, zorder=3)
    if x.size:
        lo = float(min(x.min(), y.min(), 0.0))
        hi = float(max(x.max(), y.max()))
        pad = 0.05 * (hi - lo if hi > lo else 1.0)
        ax.plot(
            [lo - pad, hi + pad],
            [lo - pad, hi + pad],
            color="#555555",
            linestyle=":",
            linewidth=1,
            label="identity",
            zorder=2,
        )
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_aspect("equal", adjustable="box")
    r_text = "r not defined" if corr.r is None else f"Pearson r = {corr.r:.3f}"
    ax.set_title(f"{r_text}  (n = {corr.n})", fontsize=10)
    ax.set_xlabel(f"reference {label}", fontsize=9)
    ax.set_ylabel(f"predicted {label}", fontsize=9)


def _bland_altman(ax: Any, x: np.ndarray, y: np.ndarray, ba: BlandAltman, label: str) -> None:
    mean, diff = (x + y) / 2.0, x - y
    ax.scatter(mean, diff, s=22, color=POINT_COLOUR, alpha=0.85, edgecolors="white", linewidths=0.5, zorder=3)
    ax.axhline(0.0, color="#999999", linewidth=0.8, zorder=1)
    if ba.bias is not None:
        ax.axhline(ba.bias, color="black", linewidth=1.3, zorder=2)
        for limit in (ba.lower, ba.upper):
            ax.axhline(limit, color=LIMIT_COLOUR, linewidth=1.1, linestyle="--", zorder=2)
        for value, name in ((ba.upper, "+1.96 sd"), (ba.bias, "bias"), (ba.lower, "-1.96 sd")):
            ax.annotate(
                f"{name} {value:+.2f}",
                xy=(1.0, value),
                xycoords=("axes fraction", "data"),
                xytext=(-3, 3),
                textcoords="offset points",
                ha="right",
                va="bottom",
                fontsize=8,
            )
        span = max(abs(ba.upper or 0.0), abs(ba.lower or 0.0), float(np.abs(diff).max()))  # set with bias
        ax.set_ylim(-1.25 * span - 1e-9, 1.25 * span + 1e-9)
        ax.set_title(f"bias {ba.bias:+.2f}, limits {ba.lower:+.2f} to {ba.upper:+.2f}", fontsize=10)
    else:
        ax.set_title(f"too few pairs for limits (n = {ba.n})", fontsize=10)
    ax.set_xlabel(f"mean of predicted and reference {label}", fontsize=9)
    ax.set_ylabel(f"predicted - reference {label}", fontsize=9)


def agreement_figure(
    pred: Sequence[float | None], ref: Sequence[float | None], *, quantity: str, unit: str
) -> Any:
    """Correlation (left) and Bland-Altman (right) plots of one quantity; a matplotlib figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x, y = defined_pairs(pred, ref)
    label = f"{quantity} ({unit})"
    fig = Figure(figsize=(9.0, 3.9), dpi=100, layout="constrained", facecolor="white")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, width_ratios=[1.0, 1.35])
    _correlation(left, x, y, pearson(pred, ref), label)
    _bland_altman(right, x, y, bland_altman(pred, ref), label)
    for ax in (left, right):
        ax.tick_params(labelsize=8)
        ax.grid(True, color="#eeeeee", linewidth=0.6, zorder=0)
        ax.spines[["top", "right"]].set_visible(False)
    return fig


def agreement_png(
    pred: Sequence[float | None], ref: Sequence[float | None], *, quantity: str, unit: str
) -> bytes:
    """:func:`agreement_figure` as PNG bytes."""
    return figure_png(agreement_figure(pred, ref, quantity=quantity, unit=unit))
