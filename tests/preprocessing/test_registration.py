"""Rigid LGE-to-cine registration recovers known transforms across contrasts."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.preprocessing.record import RegistrationOutcome
from pscgan.preprocessing.registration import apply_rigid, register_rigid, rigid_record, transform_points


def test_apply_rigid_matches_the_point_transform():
    image = np.zeros((40, 40))
    image[10, 25] = 1.0
    rec = rigid_record((20.0, 20.0), 90.0, (2.0, -1.0))
    moved = apply_rigid(image, rec, order=1)
    expected = transform_points(np.array([[10.0, 25.0]]), rec)[0]
    # a point right of and above the centre rotates (counter-clockwise, up = -row) to above and left
    np.testing.assert_allclose(expected, (20 - 5 + 2, 20 - 10 - 1))
    assert np.unravel_index(np.argmax(moved), moved.shape) == tuple(np.round(expected).astype(int))


@pytest.mark.parametrize(("angle", "shift"), [(6.0, (3.0, -2.0)), (-8.0, (-1.5, 4.0)), (2.5, (0.0, 0.0)),
                                              (0.0, (-3.5, -3.5))])
def test_recovers_known_shift_and_rotation(make_slice, angle, shift):
    s = make_slice(shape=(96, 96), centre_rc=(48.0, 52.0), spacing_rc=(1.4, 1.4), noise=0.03, seed=3)
    misregistration = rigid_record(s.centre_rc, angle, shift)
    moving = apply_rigid(s.lge, misregistration, order=1)
    rec = register_rigid(moving, s.cine[0], s.centre_rc, s.spacing_rc)
    assert rec.applied and rec.metric_after > rec.metric_before
    assert abs(rec.rotation_deg + angle) <= 1.0
    # points of the heart go back where they were, within a pixel
    rows, cols = np.mgrid[30:70:8, 34:74:8]
    points = np.stack([rows.ravel(), cols.ravel()], axis=1).astype(float)
    back = transform_points(transform_points(points, misregistration), rec)
    assert np.max(np.hypot(*(back - points).T)) <= 1.0
    assert rec.shift_mm == pytest.approx(tuple(np.asarray(rec.shift_rc_px) * 1.4))


def test_aligned_images_stay_put(make_slice):
    s = make_slice(shape=(80, 80), centre_rc=(40.0, 45.0), noise=0.03, seed=4)
    rec = register_rigid(s.lge, s.cine[0], s.centre_rc, s.spacing_rc)
    assert abs(rec.rotation_deg) <= 1.0 and np.hypot(*rec.shift_rc_px) <= 1.0


def test_motion_is_bounded(make_slice):
    s = make_slice(shape=(96, 96), centre_rc=(48.0, 48.0), spacing_rc=(1.5, 1.5), noise=0.03, seed=5)
    far = rigid_record(s.centre_rc, 0.0, (12.0, 0.0))  # 18 mm: beyond the bound
    moving = apply_rigid(s.lge, far, order=1)
    rec = register_rigid(moving, s.cine[0], s.centre_rc, s.spacing_rc, max_shift_mm=6.0, max_angle_deg=3.0)
    assert np.hypot(*rec.shift_mm) <= 6.0 + 1e-6 and abs(rec.rotation_deg) <= 3.0


@pytest.mark.parametrize(("angle", "shift", "bounds"), [(0.0, (6.0, 0.0), (4.5, 10.0)),  # 9 mm, bound 4.5 mm
                                                        (8.0, (0.0, 0.0), (10.0, 4.0))])  # 8 deg, bound 4 deg
def test_a_pose_on_the_bound_is_not_applied_and_says_so(make_slice, angle, shift, bounds):
    """The search ran into its limit: the images are kept as they are, and the record says why."""
    s = make_slice(shape=(96, 96), centre_rc=(48.0, 48.0), spacing_rc=(1.5, 1.5), noise=0.03, seed=5)
    moving = apply_rigid(s.lge, rigid_record(s.centre_rc, angle, shift), order=1)
    rec = register_rigid(moving, s.cine[0], s.centre_rc, s.spacing_rc, max_shift_mm=bounds[0],
                         max_angle_deg=bounds[1])
    assert rec.outcome is RegistrationOutcome.AT_BOUND and not rec.applied
    assert rec.rotation_deg == 0.0 and rec.shift_rc_px == (0.0, 0.0) and rec.metric_after == rec.metric_before
    np.testing.assert_array_equal(apply_rigid(moving, rec), moving)


@pytest.mark.filterwarnings(
    "ignore:invalid value:RuntimeWarning", "ignore:Could not determine RMS:UserWarning"
)
def test_outcomes_of_applied_and_undefined_registrations(make_slice):
    s = make_slice(shape=(96, 96), centre_rc=(48.0, 52.0), spacing_rc=(1.4, 1.4), noise=0.03, seed=3)
    moving = apply_rigid(s.lge, rigid_record(s.centre_rc, 3.0, (2.0, -2.0)), order=1)
    assert register_rigid(moving, s.cine[0], s.centre_rc, s.spacing_rc).outcome is RegistrationOutcome.APPLIED
    flat = register_rigid(np.zeros((40, 40)), np.zeros((40, 40)), (20.0, 20.0))
    assert flat.outcome is RegistrationOutcome.UNDEFINED_SIMILARITY and not flat.applied
    assert flat.metric_before is None and flat.metric_after is None
