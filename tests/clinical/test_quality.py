"""The per-slice quality check on synthetic rings, broken rings, empty slices and detector records."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.clinical.quality import QualityFlag, QualityLimits, check_slice, check_slices
from pscgan.preprocessing.record import LocalisationRecord

SPACING = (1.5, 1.5)


def ring(size: int = 64, endo: float = 10, epi: float = 16,
         centre: tuple[float, float] = (32, 32)) -> np.ndarray:
    rows, cols = np.indices((size, size))
    r = np.hypot(rows - centre[0], cols - centre[1])
    return np.where(r < endo, 1, np.where(r < epi, 2, 0)).astype(np.uint8)


def test_a_closed_ring_with_scar_is_assessed():
    lab = ring()
    lab[(lab == 2) & (np.indices(lab.shape)[1] > 40)] = 3  # scar is myocardium for the topology
    q = check_slice(lab, SPACING)
    assert q.assessed and q.flags == [] and q.reasons == []
    assert q.myocardium_pieces == 1 and q.blood_pool_pieces == 1 and q.blood_pool_enclosed == 1.0
    assert q.wall_thickness_mm == pytest.approx(9.0, abs=0.3)  # 6 px of 1.5 mm
    assert q.lv_diameter_mm == pytest.approx(48.0, abs=1.0)
    assert q.localisation_confidence is None and q.detector_size_mm is None


def test_a_ring_open_on_one_side_is_not_closed():
    lab = ring()
    lab[26:38, 42:] = np.where(lab[26:38, 42:] == 2, 0, lab[26:38, 42:])  # a gap in the lateral wall
    q = check_slice(lab, SPACING)
    assert not q.assessed
    assert q.flags == [QualityFlag.RING_NOT_CLOSED.value]
    assert "closed ring" in q.reason


def test_a_ring_cut_in_two_is_fragmented_and_open():
    lab = ring()
    lab[:, 30:34] = np.where(lab[:, 30:34] == 2, 0, lab[:, 30:34])
    assert check_slice(lab, SPACING).flags == ["myocardium_fragmented", "ring_not_closed"]


def test_specks_do_not_count_as_pieces():
    lab = ring()
    lab[2, 2] = 2  # one stray pixel of myocardium, 2.25 mm^2
    assert check_slice(lab, SPACING).assessed


def test_a_slice_without_heart_is_flagged_no_heart():
    q = check_slice(np.zeros((64, 64), np.uint8), SPACING)
    assert q.flags == ["no_heart"] and "no heart" in q.reason
    assert q.lv_diameter_mm is None and q.wall_thickness_mm is None


def test_missing_blood_pool_and_myocardium():
    lab = ring()
    assert "no_blood_pool" in check_slice(np.where(lab == 1, 2, lab), SPACING).flags
    assert check_slice(np.where(lab == 2, 0, lab), SPACING).flags[0] == "no_myocardium"


def test_wall_thickness_and_lv_size_limits():
    assert check_slice(ring(endo=14, epi=15.5), SPACING).flags == ["wall_too_thin"]
    small = check_slice(ring(endo=2, epi=4.5), SPACING)
    assert "lv_too_small" in small.flags
    big = check_slice(ring(size=200, endo=30, epi=42, centre=(100, 100)), (1.5, 1.5),
                      limits=QualityLimits(max_lv_diameter_mm=100.0))
    assert big.flags == ["lv_too_large"]


def test_an_lv_cut_by_the_crop_is_flagged():
    assert check_slice(ring(centre=(32, 52)), SPACING).flags[-1] == "lv_at_crop_edge"


def test_detector_confidence_and_size_when_given_none_means_not_available():
    lab = ring()
    assert check_slice(lab, SPACING, confidence=None, detector_size_mm=None).assessed
    assert check_slice(lab, SPACING, confidence=0.9, detector_size_mm=50.0).assessed
    low = check_slice(lab, SPACING, confidence=0.2)
    assert low.flags == ["low_localisation_confidence"] and low.localisation_confidence == 0.2
    assert check_slice(lab, SPACING, detector_size_mm=150.0).flags == ["detector_size_disagrees"]


def test_check_slices_reads_the_localisation_records():
    recs = [LocalisationRecord(method="cine", centre_rc=(32.0, 32.0)),
            LocalisationRecord(method="detector", centre_rc=(32.0, 32.0), confidence=0.1, size_mm=48.0)]
    out = check_slices(np.stack([ring(), ring()]), [SPACING, SPACING], recs)
    assert [q.assessed for q in out] == [True, False]
    assert out[1].flags == ["low_localisation_confidence"]
    with pytest.raises(ValueError, match="2 slices, 1 spacings"):
        check_slices(np.stack([ring(), ring()]), [SPACING])


def test_the_result_round_trips_through_json_values():
    from pscgan.clinical.quality import SliceQuality

    q = check_slice(ring(centre=(32, 52)), SPACING)
    assert SliceQuality.from_dict({**q.as_dict(), "added_later": 1}) == q
