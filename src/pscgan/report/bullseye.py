"""AHA 16-segment bull's-eye plot of scar transmurality (Cerqueira et al., Circulation 2002).

Layout, as in the AHA figure: basal segments 1-6 form the outer ring, mid 7-12 the middle ring, apical
13-16 the inner ring; the apex cap (segment 17) is not assessed and left blank. Seen from the apex:
anterior at the top (1, 7, 13), septum on the left (2-3, 8-9, 14), inferior at the bottom (4, 10, 15),
lateral wall on the right (5-6, 11-12, 16). The sector angles come from :mod:`pscgan.geometry.aha`
with the anterior RV insertion at 120 degrees, which puts segment 1 on 60-120 degrees (top), exactly the
standard plot, so the bull's-eye and the segment assignment on the images share one definition.

Each segment is coloured by its transmurality (0-100 % of the wall thickness, colour bar); a segment
with scar present (scar fraction above the threshold) gets a thick black outline; a segment that no
slice covered is light grey and hatched.

Example:
    >>> panel = BullseyePanel("predicted", {s: 0.0 for s in range(1, 17)} | {1: 0.8}, frozenset({1}))
    >>> png = bullseye_png([panel])
    >>> png[:4]
    b'\\x89PNG'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pscgan.clinical.quantify import Quantification
from pscgan.geometry.aha import SEGMENT_NAMES, segment_center_angle, segment_width_deg
from pscgan.report.panels import figure_png

if TYPE_CHECKING:
    from typing_extensions import TypeIs

#: Anterior RV insertion angle that reproduces the standard AHA plot (see module docstring).
LAYOUT_RV_INSERTION_DEG = 120.0
#: Radii ``(inner, outer)`` of each ring; the apex cap is ``r < 1``.
RING_RADII: dict[str, tuple[float, float]] = {"apical": (1.0, 2.0), "mid": (2.0, 3.0), "basal": (3.0, 4.0)}
#: Sequential map that keeps its order for the common colour-vision deficiencies (light = no scar).
COLOUR_MAP = "YlOrRd"
NOT_IMAGED_COLOUR = "#d9d9d9"
#: Orientation words around the plot (display angles: anterior up, septum left).
WALL_LABELS = {"anterior": 90.0, "septal": 180.0, "inferior": 270.0, "lateral": 0.0}


@dataclass(frozen=True)
class BullseyePanel:
    """One bull's-eye: a title, transmurality per segment (0..1, ``None`` = not imaged) and the
    segments to outline (scar present)."""

    title: str
    values: Mapping[int, float | None]
    scar_present: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def from_quantification(cls, title: str, q: Quantification) -> BullseyePanel:
        """Transmurality and scar presence of the subject's 16 segments."""
        values = {s: (q.segments[s].transmurality if s in q.segments else None) for s in SEGMENT_NAMES}
        present = frozenset(s for s, r in q.segments.items() if r.scar_present)
        return cls(title, values, present)


def ring_of_segment(segment: int) -> str:
    if segment not in SEGMENT_NAMES:
        raise ValueError(f"AHA segment must be 1..16, got {segment}")
    return "basal" if segment <= 6 else "mid" if segment <= 12 else "apical"


def segment_anchor(segment: int) -> tuple[float, float]:
    """Polar position ``(theta in radians, radius)`` of the middle of ``segment`` in the plot."""
    inner, outer = RING_RADII[ring_of_segment(segment)]
    return math.radians(segment_center_angle(segment, LAYOUT_RV_INSERTION_DEG)), (inner + outer) / 2


def _defined(v: float | None) -> TypeIs[float]:
    return v is not None and math.isfinite(v)


def _draw(ax: Any, panel: BullseyePanel, cmap: Any) -> None:
    from matplotlib.transforms import offset_copy

    ax.set_ylim(0, 4.5)
    ax.set_axis_off()
    for name, angle in WALL_LABELS.items():
        ax.text(
            math.radians(angle),
            4.25,
            name,
            ha="center",
            va="center",
            fontsize=7.5,
            color="#555555",
            rotation=90 if angle in (0.0, 180.0) else 0,
        )
    for segment in SEGMENT_NAMES:
        theta, r_mid = segment_anchor(segment)
        inner, outer = RING_RADII[ring_of_segment(segment)]
        width = math.radians(segment_width_deg(segment))
        value = panel.values.get(segment)
        known = _defined(value)
        colour = cmap(min(max(float(value), 0.0), 1.0)) if _defined(value) else NOT_IMAGED_COLOUR
        ax.bar(
            theta,
            outer - inner,
            width=width,
            bottom=inner,
            color=colour,
            edgecolor="white",
            linewidth=1.5,
            hatch=None if known else "///",
            align="center",
            zorder=1,
        )
        # Text in black or white, whichever reads better on the segment colour.
        rgb = colour if isinstance(colour, tuple) else (0.85, 0.85, 0.85)
        luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
        text_colour = "white" if luminance < 0.45 else "black"
        ax.text(
            theta,
            r_mid,
            str(segment),
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            color=text_colour,
            zorder=3,
            transform=offset_copy(ax.transData, fig=ax.figure, y=5, units="points"),
        )
        ax.text(
            theta,
            r_mid,
            f"{100 * value:.0f}%" if _defined(value) else "n/a",
            ha="center",
            va="center",
            fontsize=7.5,
            color=text_colour,
            zorder=3,
            transform=offset_copy(ax.transData, fig=ax.figure, y=-6, units="points"),
        )
    for segment in sorted(panel.scar_present):
        theta, _ = segment_anchor(segment)
        inner, outer = RING_RADII[ring_of_segment(segment)]
        ax.bar(
            theta,
            outer - inner,
            width=math.radians(segment_width_deg(segment)),
            bottom=inner,
            fill=False,
            edgecolor="black",
            linewidth=2.2,
            align="center",
            zorder=2,
        )
    ax.set_title(panel.title, fontsize=12, pad=4, y=1.02)


def bullseye_figure(panels: Sequence[BullseyePanel]) -> Any:
    """A matplotlib figure with one bull's-eye per panel, side by side, and one colour bar (0-100 %)."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    if not panels:
        raise ValueError("a bull's-eye figure needs at least one panel")
    cmap = colormaps[COLOUR_MAP]
    fig = Figure(figsize=(3.6 * len(panels) + 0.9, 3.9), dpi=100, layout="constrained", facecolor="white")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, len(panels), i + 1, projection="polar") for i in range(len(panels))]
    for ax, panel in zip(axes, panels, strict=True):
        _draw(ax, panel, cmap)
    bar = fig.colorbar(
        ScalarMappable(norm=Normalize(0, 100), cmap=cmap), ax=axes, shrink=0.75, pad=0.04, aspect=22
    )
    bar.set_label("scar transmurality (% of wall)", fontsize=9)
    bar.ax.tick_params(labelsize=8)
    return fig


def bullseye_png(panels: Sequence[BullseyePanel]) -> bytes:
    """:func:`bullseye_figure` as PNG bytes."""
    return figure_png(bullseye_figure(panels))
