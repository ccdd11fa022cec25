from __future__ import annotations

import io
import math

import numpy as np
import pytest
from matplotlib import colormaps
from PIL import Image

from pscgan.clinical.quantify import quantify_labels
from pscgan.geometry.aha import SEGMENT_NAMES, segment_of_angle
from pscgan.report.bullseye import (
    COLOUR_MAP,
    NOT_IMAGED_COLOUR,
    BullseyePanel,
    bullseye_figure,
    bullseye_png,
    segment_anchor,
)
from pscgan.report.panels import figure_png, hex_rgb


def _anchor_pixel(fig, ax, segment: int) -> tuple[int, int]:
    """(row, col) in the saved PNG (saved at the figure's dpi, so display coordinates map 1:1)."""
    x, y = ax.transData.transform(segment_anchor(segment))
    return int(round(fig.bbox.height - y)), int(round(x))


def _render(panels):
    """The figure (for coordinates) and its PNG as the report stores it (palette-quantised)."""
    fig = bullseye_figure(panels)
    png = figure_png(fig)
    return fig, np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.float64)


def _segment_colour(img: np.ndarray, fig, ax, segment: int) -> np.ndarray:
    """Colour of the segment beside its centre (the centre itself carries the number and percentage)."""
    theta, r = segment_anchor(segment)
    samples = []
    width = math.radians(90 if segment >= 13 else 60)
    for dt in (-0.3, 0.3):  # either side of the centre along the ring, clear of the text
        x, y = ax.transData.transform((theta + dt * width, r))
        samples.append(img[int(round(fig.bbox.height - y)), int(round(x))])
    return np.median(np.array(samples), axis=0)


def test_anchors_follow_the_standard_aha_layout():
    # segment 1 at the top, 4 at the bottom, septum (2, 3, 8, 9, 14) left, lateral (5, 6, 11, 12, 16) right
    deg = {s: math.degrees(segment_anchor(s)[0]) % 360 for s in SEGMENT_NAMES}
    assert deg[1] == pytest.approx(90) and deg[7] == pytest.approx(90) and deg[13] == pytest.approx(90)
    assert deg[4] == pytest.approx(270) and deg[15] == pytest.approx(270)
    assert deg[14] == pytest.approx(180) and deg[16] == pytest.approx(0)
    for s in (2, 3, 8, 9):
        assert 90 < deg[s] < 270
    for s in (5, 6, 11, 12):
        assert deg[s] > 270 or deg[s] < 90
    radii = {s: segment_anchor(s)[1] for s in SEGMENT_NAMES}
    assert (
        min(radii[s] for s in range(1, 7))
        > max(radii[s] for s in range(7, 13))
        > max(radii[s] for s in range(13, 17))
    )
    # the same angles as the segment assignment on the images (RV insertion 120 deg)
    for s in SEGMENT_NAMES:
        level = "basal" if s <= 6 else "mid" if s <= 12 else "apical"
        assert segment_of_angle(deg[s], level, theta_a_deg=120.0) == s


def test_colour_at_each_segment_matches_its_value():
    values = {s: (s - 1) / 15 for s in SEGMENT_NAMES}  # every segment a different value
    values[16] = None
    fig, img = _render([BullseyePanel("predicted", values)])
    ax = fig.axes[0]
    cmap = colormaps[COLOUR_MAP]
    for s in SEGMENT_NAMES:
        got = _segment_colour(img, fig, ax, s)
        want = hex_rgb(NOT_IMAGED_COLOUR) if values[s] is None else 255 * np.array(cmap(values[s])[:3])
        if values[s] is None:  # hatched: the grey shows between hatch lines
            assert np.abs(img[_anchor_pixel(fig, ax, s)] - want).max() < 60
        else:
            assert np.abs(got - want).max() < 8, (s, got, want)


def test_only_segment_one_is_dark_when_only_it_has_scar():
    values = {s: 0.0 for s in SEGMENT_NAMES} | {1: 1.0}
    fig, img = _render([BullseyePanel("p", values), BullseyePanel("r", {s: 0.0 for s in SEGMENT_NAMES})])
    left, right = fig.axes[0], fig.axes[1]
    dark = 255 * np.array(colormaps[COLOUR_MAP](1.0)[:3])
    pale = 255 * np.array(colormaps[COLOUR_MAP](0.0)[:3])
    assert np.abs(_segment_colour(img, fig, left, 1) - dark).max() < 8
    assert np.abs(_segment_colour(img, fig, right, 1) - pale).max() < 8
    for s in (2, 6, 7):
        assert np.abs(_segment_colour(img, fig, left, s) - pale).max() < 8
    # top of the plot: segment 1's centre is above the plot centre
    row1, _ = _anchor_pixel(fig, left, 1)
    row4, _ = _anchor_pixel(fig, left, 4)
    assert row1 < row4


def test_panel_from_quantification_has_lateral_scar():
    rows, cols = np.indices((48, 48))
    r = np.hypot(rows - 24, cols - 24)
    sl = np.where(r < 9, 1, np.where(r < 14, 2, 0)).astype(np.uint8)
    sl[(r >= 9) & (r < 14) & (cols > 24)] = 3
    q = quantify_labels(
        np.stack([sl.T] * 3, axis=-1),
        (1.5, 1.5, 8.0),
        levels=["basal", "mid", "apical"],
        rv_angles_deg=[120.0] * 3,
    )
    panel = BullseyePanel.from_quantification("predicted", q)
    assert set(panel.values) == set(SEGMENT_NAMES)
    assert {5, 6, 11, 12, 16} <= panel.scar_present and not {2, 3, 8, 9, 14} & panel.scar_present
    assert bullseye_png([panel])[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_panel_is_refused():
    with pytest.raises(ValueError):
        bullseye_figure([])
