"""k-space truncation, temporal blur, coil noise, ghosts and quantisation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from pscgan.phantom.acquisition import (
    add_ghosts,
    coil_combine,
    coil_shading,
    kspace_resample,
    quantise,
    temporal_blur,
)
from pscgan.phantom.raster import OVERSAMPLING
from pscgan.phantom.render import shift_bilinear


def _disc(n_out: int, radius_px: float) -> np.ndarray:
    n = n_out * OVERSAMPLING
    c = (n - 1) / 2
    rows, cols = np.indices((n, n))
    return (np.hypot(rows - c, cols - c) < radius_px * OVERSAMPLING).astype(np.float32)[None]


def test_resample_keeps_the_mean_and_block_average_at_full_resolution() -> None:
    fine = _disc(32, 9.0)
    out = kspace_resample(fine, 32, np.array([1.0]), 1.0, np.zeros((1, 2)), 0.0)
    assert out.mean() == pytest.approx(fine.mean(), rel=1e-5)
    blocks = fine[0].reshape(32, OVERSAMPLING, 32, OVERSAMPLING).mean(axis=(1, 3))
    # sampled at the written pixel centres: close to the block average away from the edge
    assert np.abs(out[0] - blocks).mean() < 0.03


def test_truncation_rings_like_gibbs() -> None:
    fine = np.zeros((1, 256, 256), np.float32)
    fine[:, :, 128:] = 1.0
    out = kspace_resample(fine, 64, np.array([2.0]), 1.0, np.zeros((1, 2)), 0.0)
    profile = out[0, 32]
    assert 1.05 < profile.max() < 1.12  # Gibbs overshoot ~9% of the step
    assert -0.12 < profile.min() < -0.05


def test_integer_shift_equals_roll_and_fractional_shift_moves_the_centroid() -> None:
    fine = _disc(32, 6.0)
    base = kspace_resample(fine, 32, np.array([1.0]), 1.0, np.zeros((1, 2)), 0.0)[0]
    moved = kspace_resample(fine, 32, np.array([1.0]), 1.0, np.array([[2.0, -3.0]]), 0.0)[0]
    np.testing.assert_allclose(moved, np.roll(base, (2, -3), axis=(0, 1)), atol=1e-5)
    half = kspace_resample(fine, 32, np.array([1.0]), 1.0, np.array([[0.5, 0.0]]), 0.0)[0]

    def row_centroid(img: np.ndarray) -> float:
        return ndimage.center_of_mass(np.clip(img, 0, None))[0]

    com = row_centroid(half) - row_centroid(base)
    assert com == pytest.approx(0.5, abs=0.05)


def test_bilinear_label_shift_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    img = ndimage.gaussian_filter(rng.uniform(size=(40, 40)), 2)
    ours = shift_bilinear(img, np.array([1.3, -0.6]))
    ref = ndimage.shift(img, (1.3, -0.6), order=1, mode="grid-wrap")
    np.testing.assert_allclose(ours[4:-4, 4:-4], ref[4:-4, 4:-4], atol=1e-10)


def test_temporal_blur_is_a_periodic_average() -> None:
    frames = np.random.default_rng(0).uniform(size=(25, 4, 4)).astype(np.float32)
    out = temporal_blur(frames, 40.0, 40.0)
    w = 40.0 / (8 * 40.0)
    np.testing.assert_allclose(out[0], (1 - 2 * w) * frames[0] + w * (frames[24] + frames[1]), rtol=1e-6)
    np.testing.assert_allclose(out.mean(0), frames.mean(0), rtol=1e-5)


def test_magnitude_noise_is_rician_and_psir_gaussian() -> None:
    rng = np.random.default_rng(0)
    shading = np.ones((200, 200), np.float32)
    zero = coil_combine(np.zeros((200, 200), np.float32), shading, 2.0, rng)
    assert zero.mean() == pytest.approx(2.0 * np.sqrt(np.pi / 2), rel=0.02)  # Rayleigh floor
    high = coil_combine(np.full((200, 200), 100.0, np.float32), shading, 2.0, rng)
    assert high.std() == pytest.approx(2.0, rel=0.03)
    signed = coil_combine(np.full((200, 200), -3.0, np.float32), shading, 1.0, rng, signed=True)
    assert signed.mean() == pytest.approx(-3.0, abs=0.02) and signed.std() == pytest.approx(1.0, rel=0.03)


def test_coil_shading_peak_to_peak_and_brighter_anteriorly() -> None:
    crop = slice(8, 72)
    s = coil_shading(80, 1.5, (39.5, 39.5), 16, 90.0, 0.3, crop)
    region = s[crop, crop]
    assert region.max() - region.min() == pytest.approx(0.3, rel=1e-4)
    assert region.mean() == pytest.approx(1.0, abs=1e-4)
    assert region[:10].mean() > region[-10:].mean()  # anterior (top rows) brighter


def test_ghosts_and_quantisation() -> None:
    frames = np.zeros((25, 16, 16), np.float32)
    frames[:, 8, 8] = np.sin(np.linspace(0, 2 * np.pi, 25, endpoint=False)) + 1
    assert add_ghosts(frames, 0.0, 5, 0, pulsatile=True) is frames
    ghosted = add_ghosts(frames, 0.02, 5, 0, pulsatile=True)
    assert np.abs(ghosted[:, 13, 8]).max() > 0 and np.abs(ghosted[:, 13, 8]).max() < 0.02
    q = quantise(np.array([0.0, 0.05, 10.0]), 1.0)
    assert q.tolist() == [0.0, 150.0, 4095.0]
    assert quantise(np.array([-10.0]), 1.0, signed=True).tolist() == [-4096.0]
