"""Scar read from the phantom's motion: the table's inverse, the painting, the measured amplitude."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.phantom.anatomy import ANGLE_BINS, ANGLES_DEG, slice_anatomy
from pscgan.phantom.params import SubjectParams, sample_subject
from pscgan.phantom.render import render_subject
from pscgan.phantom.scar import motion_amplitude, regional_motion
from pscgan.phantom.scar_oracle import OracleScar, measured_motion, motion_tei, oracle_tei, scar_labels


@pytest.fixture(scope="module")
def normal() -> SubjectParams:
    return sample_subject(2, normal=True, n_slices=1)


@pytest.fixture(scope="module")
def ihd() -> SubjectParams:
    return sample_subject(3, normal=False, n_slices=1)


def test_motion_tei_inverts_the_table() -> None:
    tei = np.linspace(0.0, 1.0, 41)
    for hyper, offset in ((1.0, 0.0), (1.15, 0.05), (1.07, -0.05)):
        a = motion_amplitude(tei, hyperkinesis=hyper, offset=offset)
        np.testing.assert_allclose(motion_tei(a, hyperkinesis=hyper, offset=offset), tei, atol=1e-12)
    # beyond the table's ends: no scar above the remote amplitude, full thickness below akinesis
    assert motion_tei(np.array([1.3, -0.5]), hyperkinesis=1.1, offset=0.0).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="no inverse"):
        motion_tei(np.array([0.5]), hyperkinesis=0.7, offset=0.0)


def _scar_angles(labels: np.ndarray, center_rc: list[float]) -> np.ndarray:
    rows, cols = np.nonzero(labels[:, :, 0].T == 3)  # layout (x, y) -> display (row, col)
    return np.mod(np.degrees(np.arctan2(-(rows - center_rc[0]), cols - center_rc[1])), 360.0)


def test_a_still_sector_is_painted_as_scar_and_a_moving_wall_is_not(normal: SubjectParams) -> None:
    rendered = render_subject(normal)
    center = rendered.info.phantom["truth"]["slices"][0]["lv_center_rc"]
    hyper = normal.motion.remote_hyperkinesis
    moving = np.full(ANGLE_BINS, hyper)
    still = np.where((ANGLES_DEG > 30.0) & (ANGLES_DEG < 90.0), 0.0, moving)  # no motion on 60 degrees
    tei_still = motion_tei(still, hyperkinesis=hyper, offset=0.0)
    assert tei_still.max() == pytest.approx(np.interp(0.0, [-0.2, 0.15], [1.0, 0.75]))  # the table's value

    assert not (scar_labels(normal, [motion_tei(moving, hyperkinesis=hyper, offset=0.0)]) == 3).any()
    labels = scar_labels(normal, [tei_still])
    angles = _scar_angles(labels, center)
    assert angles.size > 10
    assert angles.min() > 20.0 and angles.max() < 100.0  # within the sector, up to a pixel's angle
    # blood pool and myocardium (scar included) stay the subject's own, up to boundary pixels where
    # splitting the wall's fraction into scar and myocardium lets blood pool or background win the argmax
    blood = int(((labels == 1) != (rendered.labels == 1)).sum())
    wall = int(((labels >= 2) != (rendered.labels >= 2)).sum())
    assert blood + wall <= 8 < (labels == 3).sum() / 5


def test_truth_reproduces_the_labels_and_motion_finds_most_scar(ihd: SubjectParams) -> None:
    reference = render_subject(ihd).labels
    np.testing.assert_array_equal(scar_labels(ihd, oracle_tei(ihd, OracleScar.TRUTH)), reference)
    for kind in (OracleScar.MOTION, OracleScar.MOTION_PRIOR, OracleScar.MOTION_MEASURED):
        painted = scar_labels(ihd, oracle_tei(ihd, kind)) == 3
        truth = reference == 3
        dice = 2 * (painted & truth).sum() / (painted.sum() + truth.sum())
        assert 0.7 < dice < 1.0, kind


def test_measured_motion_follows_the_true_amplitude(ihd: SubjectParams) -> None:
    (measured,) = measured_motion(ihd)
    true, _ = regional_motion(ihd, slice_anatomy(ihd, ihd.slices[0]).scar)
    assert measured.shape == true.shape == (ANGLE_BINS,)
    assert np.abs(measured - true).mean() < 0.08
    assert np.corrcoef(measured, true)[0, 1] > 0.9


def test_profiles_per_slice_are_required(ihd: SubjectParams) -> None:
    with pytest.raises(ValueError, match="1 slices"):
        scar_labels(ihd, [np.zeros(ANGLE_BINS)] * 2)


def test_the_module_example_runs() -> None:
    # tests/test_docstrings.py does not reach pscgan.phantom (a namespace package without __init__.py)
    import doctest

    import pscgan.phantom.scar_oracle as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
