from __future__ import annotations

import numpy as np
import pytest

from pscgan.clinical.quantities import slice_quantities, stack_quantities


def test_hand_counted_areas():
    lab = np.zeros((20, 20), np.uint8)
    lab[5:15, 5:15] = 2   # 100 myocardium
    lab[8:12, 8:12] = 1   # 16 blood pool
    lab[5:7, 5:15] = 3    # 20 scar
    q = slice_quantities(lab, (1.5, 1.2))
    px = 1.5 * 1.2 / 100
    assert q.scar_area_cm2 == pytest.approx(20 * px)
    assert q.myocardium_area_cm2 == pytest.approx(84 * px)
    assert q.healthy_myocardium_area_cm2 == pytest.approx(64 * px)
    assert q.blood_pool_area_cm2 == pytest.approx(16 * px)
    assert q.scar_ratio == pytest.approx(20 / 84)


def test_no_myocardium_means_undefined_ratio():
    q = slice_quantities(np.zeros((8, 8), np.uint8), (1.0, 1.0))
    assert q.scar_ratio is None and q.scar_area_cm2 == 0.0


def test_stack_volume_and_ratio():
    a = np.zeros((10, 10), np.uint8)
    a[:5] = 2
    a[:1] = 3
    s = [slice_quantities(a, (1.0, 1.0)), slice_quantities(np.zeros_like(a), (1.0, 1.0))]
    st = stack_quantities(s, slice_thickness_mm=8.0)
    assert st.scar_volume_ml == pytest.approx(10 * 0.01 * 0.8)
    assert st.myocardium_volume_ml == pytest.approx(50 * 0.01 * 0.8)
    assert st.scar_ratio == pytest.approx(0.2)
    assert st.n_slices == 2 and st.n_slices_with_myocardium == 1
    assert stack_quantities([s[1]], 8.0).scar_ratio is None


def test_bad_input():
    with pytest.raises(ValueError):
        slice_quantities(np.zeros((2, 2, 2), np.uint8), (1, 1))
    with pytest.raises(ValueError, match="0..3"):
        slice_quantities(np.full((2, 2), 5, np.uint8), (1, 1))
