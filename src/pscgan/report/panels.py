"""Image panels of the report: grey windowing, display size, segmentation overlays, PNG data URIs.

Images are drawn with numpy and Pillow (no figure machinery needed for a picture of an array), resized
to their physical aspect ratio (pixel spacing) so that a round ventricle looks round.

Colours of the tissue classes come from the Okabe-Ito palette, chosen to stay distinct for the common
colour-vision deficiencies: blood pool blue, healthy myocardium bluish green, scar vermillion.

Example:
    >>> import numpy as np
    >>> img = np.arange(16.0).reshape(4, 4)
    >>> lo, hi = grey_window([img])
    >>> to_grey(img, (lo, hi)).dtype, display_size((4, 4), (1.0, 2.0), target=64)
    (dtype('uint8'), (32, 64))
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image
from skimage.segmentation import find_boundaries

from pscgan.labels import Tissue

#: Overlay colour of each drawn tissue class (Okabe-Ito palette).
TISSUE_COLOURS: dict[Tissue, str] = {
    Tissue.BLOOD_POOL: "#0072B2",
    Tissue.MYOCARDIUM: "#009E73",
    Tissue.SCAR: "#D55E00",
}
#: Opacity of the filled overlay (the outline is drawn opaque), low enough to read the image below.
FILL_ALPHA = 0.4
#: Longest side, in pixels, of a static panel.
PANEL_SIZE = 240
#: Percentiles defining a grey window (robust to a few very bright pixels).
WINDOW_PERCENTILES = (0.5, 99.5)


def hex_rgb(colour: str) -> np.ndarray:
    """``"#RRGGBB"`` -> float array of 3 values in 0..255."""
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def grey_window(images: Sequence[np.ndarray]) -> tuple[float, float]:
    """One grey window ``(low, high)`` for several images, from the percentiles of their finite pixels."""
    values = np.concatenate([np.asarray(im, np.float64)[np.isfinite(im)].ravel() for im in images])
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(values, WINDOW_PERCENTILES))
    if hi <= lo:  # a constant image: centre it in the window
        lo, hi = lo - 0.5, lo + 0.5
    return lo, hi


def to_grey(image: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """Map ``image`` through ``window`` to uint8 (NaN drawn black)."""
    lo, hi = window
    scaled = (np.nan_to_num(np.asarray(image, np.float64), nan=lo) - lo) / (hi - lo)
    return np.round(255.0 * np.clip(scaled, 0.0, 1.0)).astype(np.uint8)


def display_size(
    shape: tuple[int, int], spacing_mm: tuple[float, float], target: int = PANEL_SIZE
) -> tuple[int, int]:
    """``(height, width)`` in pixels with the physical aspect ratio and the longer side ``target``."""
    h_mm, w_mm = shape[0] * spacing_mm[0], shape[1] * spacing_mm[1]
    scale = target / max(h_mm, w_mm)
    return max(1, round(h_mm * scale)), max(1, round(w_mm * scale))


def resize_grey(grey: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resample a uint8 image to ``(height, width)`` (bicubic: smooth, as MR viewers show images)."""
    img = Image.fromarray(np.ascontiguousarray(grey, dtype=np.uint8))
    return np.asarray(img.resize((size[1], size[0]), Image.Resampling.BICUBIC))


def resize_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resample a label map to ``(height, width)`` by nearest neighbour (labels are never blended)."""
    rows = np.minimum((np.arange(size[0]) + 0.5) * labels.shape[0] / size[0], labels.shape[0] - 1).astype(int)
    cols = np.minimum((np.arange(size[1]) + 0.5) * labels.shape[1] / size[1], labels.shape[1] - 1).astype(int)
    return np.asarray(labels)[np.ix_(rows, cols)]


def overlay(grey: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """RGB image: ``grey`` with each tissue class filled (translucent) and outlined (opaque).

    Args:
        grey: uint8 background, already at display size.
        labels: label map of the same shape (pscgan encoding).
    """
    if grey.shape != labels.shape:
        raise ValueError(f"background {grey.shape} and labels {labels.shape} differ in shape")
    rgb = np.repeat(grey[..., None].astype(np.float64), 3, axis=2)
    for tissue, colour in TISSUE_COLOURS.items():
        mask = labels == tissue
        if not mask.any():
            continue
        c = hex_rgb(colour)
        rgb[mask] = (1.0 - FILL_ALPHA) * rgb[mask] + FILL_ALPHA * c
        rgb[find_boundaries(mask, mode="inner")] = c
    return np.round(rgb).astype(np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    """Encode a uint8 grey ``(H, W)`` or RGB ``(H, W, 3)`` array as PNG."""
    arr = np.ascontiguousarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {arr.dtype}")
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def figure_png(fig: Any) -> bytes:
    """Render a matplotlib figure (Agg canvas, at the figure's dpi) to PNG bytes.

    Plots have few distinct colours, so the image is stored with a 256-colour palette (a fraction of
    the size of full RGB; flat areas keep their colour).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    rgb = Image.fromarray(np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3]))
    out = io.BytesIO()
    rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    """A ``data:`` URI holding ``data`` (base64), so the page needs no other file."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def grey_panel(image: np.ndarray, window: tuple[float, float], spacing_mm: tuple[float, float]) -> bytes:
    """PNG of one image in ``window`` at display size."""
    grey = to_grey(image, window)
    return png_bytes(resize_grey(grey, display_size(grey.shape, spacing_mm)))


def overlay_panel(
    background: np.ndarray, window: tuple[float, float], labels: np.ndarray, spacing_mm: tuple[float, float]
) -> bytes:
    """PNG of ``labels`` drawn over ``background`` at display size."""
    size = display_size(background.shape, spacing_mm)
    grey = resize_grey(to_grey(background, window), size)
    return png_bytes(overlay(grey, resize_labels(labels, size)))
