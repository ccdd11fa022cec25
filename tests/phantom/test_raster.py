"""Fine-grid rasterisation: partial volume against analytic areas and brute-force evaluation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pscgan.phantom.anatomy import ANGLE_BINS, slice_anatomy
from pscgan.phantom.contrast import LAYERS
from pscgan.phantom.motion import N_PHASES, FrameBoundaries
from pscgan.phantom.params import sample_subject
from pscgan.phantom.raster import OVERSAMPLING, coverage_table, make_grid, rasterise

FRAMES = N_PHASES + 1


def _circles(r_endo: float, r_epi: float, scales: list[float]) -> FrameBoundaries:
    ring = {k: np.full((FRAMES, ANGLE_BINS), r_endo, np.float32)
            for k in ("endo", "mvo", "core", "label", "bz")}
    ring["label"][:, : ANGLE_BINS // 4] = r_endo + 3.0   # a quarter-circle scar band of 3 mm
    ring["bz"][:, : ANGLE_BINS // 4] = r_endo + 3.0
    ring["core"][:, : ANGLE_BINS // 4] = r_endo + 3.0
    for k, r in (("epi", r_epi), ("rvc", r_epi), ("rv", r_epi), ("fat", r_epi + 2.0)):
        ring[k] = np.full((FRAMES, ANGLE_BINS), r, np.float32)
    s = np.tile(np.array(scales), (FRAMES, 1))
    return FrameBoundaries(radii=ring, endo_scales=s, epi_scales=s, center_scale=np.ones((FRAMES, 2)),
                           translation_mm=np.zeros((FRAMES, 2)), lv_rotation_bins=np.zeros(FRAMES, int),
                           contraction=np.zeros(FRAMES))


def _anatomy(r_endo: float, r_epi: float):
    p = sample_subject(0, normal=True)
    a = slice_anatomy(p, p.slices[1])
    return dataclasses.replace(a, r_endo=np.full(ANGLE_BINS, r_endo), r_epi=np.full(ANGLE_BINS, r_epi),
                               papillary_radii_mm=(0.0, 0.0))


def _signals(**values: float) -> dict[str, float]:
    return {k: values.get(k, 0.0) for k in LAYERS}


def test_coverage_table_is_the_mean_of_ramps() -> None:
    scales = np.array([[0.8, 1.0, 1.2]])
    g = coverage_table(scales, sharpness=10.0)
    rho = np.arange(g.shape[1]) * 2.5 / g.shape[1]
    brute = np.mean([np.clip((s - rho) * 10 + 0.5, 0, 1) for s in scales[0]], axis=0)
    np.testing.assert_allclose(g[0], brute, atol=1e-6)


@pytest.mark.parametrize("scales", [[1.0], [0.85, 0.95, 1.0, 1.05]])
def test_area_of_rendered_layers_matches_the_analytic_area(scales: list[float]) -> None:
    grid = make_grid(40, 1.5, (0.7, -1.1))
    fb, anatomy = _circles(18.0, 25.0, scales), _anatomy(18.0, 25.0)
    background = np.zeros((2, grid.n * grid.n), np.float32)
    out = rasterise(grid, fb, anatomy, _signals(blood=1.0), _signals(myocardium=1.0, scar=1.0), background)
    s2 = np.mean(np.square(scales))
    pixel = grid.h**2
    cavity = np.pi * 18.0**2 * s2
    assert out.images[0].sum() * pixel == pytest.approx(cavity, rel=2e-3)
    assert out.images[N_PHASES].sum() * pixel == pytest.approx(np.pi * (25.0**2 - 18.0**2) * s2, rel=2e-3)
    # label channels: block sums of the same fractions (written pixels of OVERSAMPLING^2 fine pixels)
    written = (grid.h * OVERSAMPLING) ** 2
    assert out.labels[0, 3].sum() * written == pytest.approx(cavity, rel=2e-3)
    scar = 0.25 * np.pi * (21.0**2 - 18.0**2) * s2
    assert out.labels[1, 0].sum() * written == pytest.approx(scar, rel=5e-3)
    assert out.labels[2, 0].sum() * written == pytest.approx(np.pi * 25.0**2 * s2, rel=2e-3)


def test_block_accumulator_equals_a_dense_block_mean() -> None:
    grid = make_grid(24, 1.4, (0.0, 0.0))
    fb = _circles(10.0, 15.0, [0.9, 1.0])
    out = rasterise(grid, fb, _anatomy(10.0, 15.0), _signals(blood=1.0), _signals(blood=1.0),
                    np.zeros((2, grid.n * grid.n), np.float32))
    dense = out.images[0].reshape(grid.n_out, OVERSAMPLING, grid.n_out, OVERSAMPLING).mean(axis=(1, 3))
    np.testing.assert_allclose(out.labels[0, 0], dense, atol=1e-5)


def test_telescoped_layers_equal_a_per_pixel_painter() -> None:
    """Brute force: evaluate every fraction on every fine pixel and paint the layers one by one."""
    grid = make_grid(20, 1.5, (0.3, 0.2))
    fb, anatomy = _circles(9.0, 14.0, [1.0]), _anatomy(9.0, 14.0)
    cine = _signals(blood=5.0, myocardium=1.0, scar=2.0, bz_inner=2.0, bz_outer=2.0, fat=3.0)
    back = np.full((2, grid.n * grid.n), 0.5, np.float32)
    out = rasterise(grid, fb, anatomy, cine, cine, back)
    h = grid.h
    theta_bin = grid.bins

    def cov(b: np.ndarray, reference: float) -> np.ndarray:
        # the ramp is one fine pixel wide at the family's reference radius
        return np.clip((1.0 - grid.r / b[0][theta_bin]) * reference / h + 0.5, 0, 1)

    c = {k: cov(fb.radii[k], ref) for k, ref in (("endo", 9.0), ("label", 9.0), ("epi", 14.0), ("fat", 14.0))}
    painted = (5.0 * c["endo"] + 2.0 * (c["label"] - c["endo"]) + 1.0 * (c["epi"] - c["label"])
               + 3.0 * (c["fat"] - c["epi"]) + 0.5 * (1 - c["fat"]))
    np.testing.assert_allclose(out.images[0], painted, atol=0.1)
    assert np.abs(out.images[0] - painted).mean() < 3e-3  # table lookup (nearest) vs exact ramp
