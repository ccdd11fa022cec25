"""The cine of a slice as a small player: one PNG strip of all frames, cycled by a few lines of JS.

A strip PNG is smaller than an animated GIF of the same frames (checked in the tests), keeps the 8-bit
grey levels exactly, and the player can be paused and stepped frame by frame, which a GIF cannot.
Frames are stored at their own pixel grid (only resampled to square physical pixels, or down to
:data:`CINE_FRAME_SIZE`) and the browser scales them to the panel size. Without JavaScript the page
still shows frame 1 (end-diastole).

Example:
    >>> import numpy as np
    >>> cine = np.random.default_rng(0).random((5, 16, 16))
    >>> strip = cine_strip(cine, (1.5, 1.5), size=32)
    >>> strip.frames, strip.frame_size
    (5, (32, 32))
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from importlib import resources

import numpy as np

from pscgan.report.panels import (
    PANEL_SIZE,
    data_uri,
    display_size,
    grey_window,
    png_bytes,
    resize_grey,
    to_grey,
)

#: Largest longer side of one stored cine frame; the browser scales it to the panel size.
CINE_FRAME_SIZE = 128
#: One cardiac cycle is played in this many seconds (slice metadata carries no reliable RR interval).
CYCLE_SECONDS = 1.0
#: Shortest interval between frames, so that short cines do not flicker.
MIN_FRAME_MS = 40.0


@dataclass(frozen=True)
class CineStrip:
    """All frames of a cine side by side in one PNG."""

    png: bytes
    frames: int
    frame_size: tuple[int, int]  # (height, width) of one stored frame


def cine_strip(cine: np.ndarray, spacing_mm: tuple[float, float], *, size: int | None = None) -> CineStrip:
    """Window all frames of a ``(T, H, W)`` cine with one grey window and join them left to right.

    Args:
        cine: the frames.
        spacing_mm: ``(row, col)`` pixel size (frames are resampled to the physical aspect ratio).
        size: longer side of a stored frame (default: the frame's own, at most :data:`CINE_FRAME_SIZE`).
    """
    cine = np.asarray(cine)
    window = grey_window([cine])
    size = size if size is not None else min(max(cine.shape[1:]), CINE_FRAME_SIZE)
    frame_size = display_size(cine.shape[1:], spacing_mm, target=size)
    frames = [resize_grey(to_grey(f, window), frame_size) for f in cine]
    return CineStrip(png_bytes(np.concatenate(frames, axis=1)), len(frames), frame_size)


def player_script() -> str:
    """The player's JavaScript (shipped as package data, inlined in the page)."""
    return resources.files("pscgan.report").joinpath("player.js").read_text(encoding="utf-8")


def cine_player_html(cine: np.ndarray, spacing_mm: tuple[float, float], *, label: str) -> str:
    """HTML of a cine player for one slice; ``label`` is plain text (escaped here)."""
    strip = cine_strip(cine, spacing_mm)
    h, w = display_size(cine.shape[1:], spacing_mm, target=PANEL_SIZE)
    interval = max(MIN_FRAME_MS, 1000.0 * CYCLE_SECONDS / strip.frames)
    alt = html.escape(f"{label}: cine, {strip.frames} frames")
    return (
        f'<div class="cine" data-frames="{strip.frames}" data-interval-ms="{interval:.0f}">'
        f'<div class="cine-view" style="width:{w}px;height:{h}px">'
        f'<img class="cine-strip" src="{data_uri(strip.png)}" alt="{alt}" '
        f'style="width:{w * strip.frames}px;height:{h}px"></div>'
        f'<div class="cine-controls" style="width:{w}px">'
        '<button type="button" class="cine-play">Play</button>'
        f'<input type="range" class="cine-frame" min="0" max="{strip.frames - 1}" value="0" '
        f'aria-label="{alt} (frame)">'
        f'<span class="cine-label">frame 1 / {strip.frames}</span></div></div>'
    )
