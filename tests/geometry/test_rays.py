from __future__ import annotations

import numpy as np
import pytest

from pscgan.geometry.rays import cast_rays, first_runs, ray_angles


def _first_run_loop(row: np.ndarray, max_gap: int) -> tuple[int, int]:
    """Brute force: walk the samples, stop at the first gap longer than ``max_gap``."""
    start = None
    gap = 0
    end = 0
    for i, v in enumerate(row):
        if v:
            if start is None:
                start = i
            end, gap = i + 1, 0
        elif start is not None:
            gap += 1
            if gap > max_gap:
                break
    return (start, end) if start is not None else (0, 0)


@pytest.mark.parametrize("max_gap", [0, 1, 3])
def test_first_runs_match_a_loop(max_gap):
    rng = np.random.default_rng(max_gap)
    inside = rng.random((300, 40)) < 0.45
    start, end = first_runs(inside, max_gap)
    for i, row in enumerate(inside):
        assert (start[i], end[i]) == _first_run_loop(row, max_gap), row.astype(int)


def test_ray_angles_avoid_integer_boundaries():
    a = ray_angles(360)
    assert a[0] == 0.5 and a[-1] == 359.5 and np.allclose(np.diff(a), 1.0)
    with pytest.raises(ValueError):
        ray_angles(2)


def test_wall_through_the_centre_starts_at_zero():
    wall = np.ones((21, 21), bool)
    wall[0, :] = wall[-1, :] = wall[:, 0] = wall[:, -1] = False  # a filled disc-like blob, no cavity
    prof = cast_rays(wall, (10.0, 10.0), n_rays=8)
    assert np.all(prof.r_endo_mm == 0.0)
    assert np.all(prof.thickness_mm >= 9.0)


def test_wall_cut_by_the_image_border_is_not_measured():
    rows, cols = np.indices((40, 40))
    r = np.hypot(rows - 20, cols - 30)  # centre near the right edge: the lateral wall leaves the image
    wall = (r >= 8) & (r < 13)
    prof = cast_rays(wall, (20.0, 30.0), n_rays=36)
    lateral = (prof.angles_deg < 20) | (prof.angles_deg > 340)
    septal = np.abs(prof.angles_deg - 180) < 20
    assert not prof.valid[lateral].any()
    assert prof.valid[septal].all() and np.allclose(prof.thickness_mm[septal], 5.0, atol=0.5)


def test_empty_wall_gives_no_valid_ray():
    prof = cast_rays(np.zeros((16, 16), bool), (8.0, 8.0), n_rays=16)
    assert not prof.valid.any() and np.all(np.isnan(prof.transmurality))


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="scar mask shape"):
        cast_rays(np.ones((8, 8), bool), (4.0, 4.0), scar=np.ones((4, 4), bool))
