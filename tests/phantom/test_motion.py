"""Volume curve and per-frame boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.phantom.anatomy import slice_anatomy
from pscgan.phantom.motion import N_PHASES, contraction, es_phase, es_time_ms, frame_boundaries, volume_curve
from pscgan.phantom.params import sample_subject


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_volume_curve_shape(seed: int) -> None:
    p = sample_subject(seed, normal=bool(seed % 2))
    t, v = volume_curve(p)
    t_es = es_time_ms(p)
    assert v[0] == 1.0 and v.min() == pytest.approx(0.0, abs=1e-9)
    assert abs(t[np.argmin(v)] - t_es) < 80.0
    ejection = v[t <= t_es]
    assert np.all(np.diff(ejection) <= 1e-12)
    assert np.all((v >= -1e-9) & (v <= 1 + 1e-9))
    assert contraction(p, np.array([0.0, p.rr_ms]))[0] == pytest.approx(0.0, abs=1e-9)
    assert 0 < es_phase(p) < N_PHASES // 2 + 2


def test_normal_slice_shortens_by_the_ef_formula_and_conserves_wall_area() -> None:
    p = sample_subject(8, normal=True)
    sl = p.slices[1]
    anatomy = slice_anatomy(p, sl)
    fb = frame_boundaries(p, sl, anatomy)
    ed, es = 0, int(np.argmax(fb.contraction[:N_PHASES]))
    ratio = np.sqrt((1 - p.ef) / (1 - p.gls))
    pk = fb.contraction[es]
    r_ed, r_es = fb.radii["endo"][ed], fb.radii["endo"][es]
    shift = fb.lv_rotation_bins[es]
    np.testing.assert_allclose(r_es, np.roll(r_ed, shift) * (1 - (1 - ratio) * pk), rtol=1e-5)
    wall_ed = fb.radii["epi"][ed] ** 2 - r_ed**2
    wall_es = fb.radii["epi"][es] ** 2 - r_es**2
    np.testing.assert_allclose(wall_es, np.roll(wall_ed, shift) * (1 + p.gls * pk), rtol=1e-4)


def test_lge_frame_is_the_contracted_ed_shape() -> None:
    p = sample_subject(9, normal=True)
    sl = p.slices[1]
    fb = frame_boundaries(p, sl, slice_anatomy(p, sl))
    ratio = fb.radii["endo"][N_PHASES].mean() / fb.radii["endo"][0].mean()
    assert ratio == pytest.approx(p.acquisition.lge_radius_scale, abs=2e-3)
    np.testing.assert_allclose(fb.translation_mm[N_PHASES], p.acquisition.misregistration_mm)


def test_layers_stay_nested_in_every_frame() -> None:
    p = sample_subject(21, normal=False)
    order = ("endo", "mvo", "core", "label", "bz", "epi", "rvc", "rv", "fat")
    for sl in p.slices:
        fb = frame_boundaries(p, sl, slice_anatomy(p, sl))
        for inner, outer in zip(order[:-1], order[1:]):
            assert np.all(fb.radii[outer] >= fb.radii[inner])
        assert np.all(fb.endo_scales > 0) or sl.level.value == "apical"
