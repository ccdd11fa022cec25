from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage.transform import resize

from pscgan.labels import Tissue
from pscgan.report.animation import cine_player_html, cine_strip
from pscgan.report.panels import (
    FILL_ALPHA,
    TISSUE_COLOURS,
    data_uri,
    display_size,
    grey_window,
    hex_rgb,
    overlay,
    overlay_panel,
    png_bytes,
    resize_labels,
    to_grey,
)


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def test_grey_window_is_shared_and_robust():
    a = np.linspace(0, 1, 1000)
    b = a.copy()
    b[0] = 1e6  # one hot pixel must not flatten the window
    lo, hi = grey_window([a, b])
    assert 0 <= lo < 0.01 and 0.99 < hi <= 1.0
    assert grey_window([np.full((4, 4), 3.0)]) == (2.5, 3.5)
    assert to_grey(np.array([[lo, hi, np.nan]]), (lo, hi)).tolist() == [[0, 255, 0]]


def test_display_size_keeps_the_physical_aspect():
    assert display_size((64, 64), (1.5, 1.5), target=240) == (240, 240)
    assert display_size((100, 50), (1.0, 2.0), target=200) == (200, 200)
    assert display_size((64, 32), (1.0, 1.0), target=128) == (128, 64)


def test_resize_labels_is_nearest_neighbour():
    labels = np.random.default_rng(0).integers(0, 4, (13, 17)).astype(np.uint8)
    ours = resize_labels(labels, (39, 51))
    ref = resize(labels, (39, 51), order=0, preserve_range=True, anti_aliasing=False).astype(np.uint8)
    assert ours.dtype == labels.dtype and set(np.unique(ours)) <= set(np.unique(labels))
    assert np.array_equal(ours, ref)


def test_overlay_colours_fill_and_outline():
    grey = np.full((20, 20), 100, np.uint8)
    labels = np.zeros((20, 20), np.uint8)
    labels[5:15, 5:15] = Tissue.SCAR
    rgb = overlay(grey, labels)
    scar = hex_rgb(TISSUE_COLOURS[Tissue.SCAR])
    assert np.array_equal(rgb[5, 5], scar.astype(np.uint8))  # outline: opaque colour
    assert np.allclose(rgb[10, 10], (1 - FILL_ALPHA) * 100 + FILL_ALPHA * scar, atol=0.51)  # inside: blend
    assert np.array_equal(rgb[0, 0], [100, 100, 100])  # outside: untouched
    with pytest.raises(ValueError):
        overlay(grey, labels[:10])


def test_overlay_panel_and_png_round_trip():
    bg = np.random.default_rng(1).random((32, 32))
    labels = np.zeros((32, 32), np.uint8)
    labels[8:24, 8:24] = 2
    img = _decode(overlay_panel(bg, (0.0, 1.0), labels, (1.0, 1.0)))
    assert img.shape == (240, 240, 3)
    grey = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert np.array_equal(_decode(png_bytes(grey)), grey)
    assert data_uri(b"abc") == "data:image/png;base64,YWJj"
    with pytest.raises(ValueError):
        png_bytes(grey.astype(np.float32))


def test_cine_strip_holds_every_frame_in_one_window():
    cine = np.stack([np.full((8, 8), float(t)) for t in range(5)])
    strip = cine_strip(cine, (1.0, 1.0))
    img = _decode(strip.png)
    assert strip.frames == 5 and strip.frame_size == (8, 8) and img.shape == (8, 40)
    means = [img[:, 8 * t : 8 * (t + 1)].mean() for t in range(5)]
    assert means == sorted(means) and means[0] < means[-1]  # one window for all frames: brightness kept


def test_cine_strip_is_smaller_than_a_gif(synth):
    cine = synth.beating_cine(64, 25)
    strip = cine_strip(cine, (1.5, 1.5))
    frames = [Image.fromarray(f) for f in np.split(_decode(strip.png), 25, axis=1)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=40, loop=0)
    assert len(strip.png) < len(buf.getvalue())


def test_cine_player_markup_escapes_the_label():
    html = cine_player_html(np.zeros((3, 8, 8)), (1.0, 1.0), label='<img src=x onerror="alert(1)">')
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert 'data-frames="3"' in html and 'max="2"' in html
