from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest

from pscgan.clinical.levels import infer_levels
from pscgan.clinical.quantify import Quantification, quantify_labels
from pscgan.io.nifti import read_nifti
from pscgan.labels import from_emidec


def _ring_volume(n_slices=3):
    rows, cols = np.indices((48, 48))
    r = np.hypot(rows - 24, cols - 24)
    sl = np.where(r < 9, 1, np.where(r < 14, 2, 0)).astype(np.uint8)
    sl[(r >= 9) & (r < 14) & (cols > 24)] = 3   # lateral half of the wall, transmural
    return np.stack([sl.T] * n_slices, axis=-1), sl


def test_lateral_scar_segments_and_ratio():
    vol, disp = _ring_volume()
    q = quantify_labels(vol, (1.5, 1.5, 8.0), levels=["basal", "mid", "apical"], rv_angles_deg=[120.0] * 3)
    assert q.subject.scar_ratio == pytest.approx((disp == 3).sum() / np.isin(disp, (2, 3)).sum())
    # with theta_a = 120: lateral segments (5, 6, 11, 12, 16) scarred, septal ones (2, 3, 8, 9, 14) not
    for seg in (5, 6, 11, 12, 16):
        assert q.segments[seg].scar_present and q.segments[seg].transmurality > 0.9
    for seg in (2, 3, 8, 9, 14):
        assert not q.segments[seg].scar_present and q.segments[seg].transmurality == 0.0
    assert q.notes == []
    json.dumps(q.as_dict())


def test_assumed_angle_and_inferred_levels_are_noted():
    vol, _ = _ring_volume()
    q = quantify_labels(vol, (1.5, 1.5, 8.0))
    assert any("assumed" in n for n in q.notes) and any("inferred" in n for n in q.notes)
    assert all(s.rv_angle_source == "assumed" for s in q.slices)


def test_empty_volume_gives_undefined_ratio():
    q = quantify_labels(np.zeros((16, 16, 2), np.uint8), (1.0, 1.0, 8.0))
    assert q.subject.scar_ratio is None and q.segments == {}


@pytest.mark.parametrize("case", ["samplePositive", "sampleNegative"])
def test_emidec_volume_and_ratio_match_direct_voxel_count(emidec_dir, case):
    """Real expert labels: scar volume and scar ratio within 1% of a direct voxel count."""
    img = nib.load(str(emidec_dir / case / "labels.nii.gz"))
    raw = np.asarray(img.dataobj).astype(np.int64)
    voxel_ml = float(np.prod(img.header.get_zooms()[:3])) / 1000.0
    direct_scar = np.isin(raw, (3, 4)).sum() * voxel_ml
    direct_myo = np.isin(raw, (2, 3, 4)).sum() * voxel_ml
    vol = read_nifti(emidec_dir / case / "labels.nii.gz", dtype=None)
    q = quantify_labels(from_emidec(vol.array), vol.spacing)
    assert q.subject.scar_volume_ml == pytest.approx(direct_scar, rel=0.01, abs=1e-9)
    assert q.subject.myocardium_volume_ml == pytest.approx(direct_myo, rel=0.01)
    if case == "samplePositive":
        assert (np.isin(raw, (3, 4)).sum()) == 759 + 29
        assert q.subject.scar_ratio == pytest.approx(direct_scar / direct_myo, rel=0.01)
        assert any(s.scar_present for s in q.segments.values())
    else:
        assert q.subject.scar_volume_ml == 0.0 and q.subject.scar_ratio == 0.0
        assert not any(s.scar_present for s in q.segments.values())


def test_emidec_levels_cover_the_stack(emidec_dir):
    vol = read_nifti(emidec_dir / "samplePositive" / "labels.nii.gz", dtype=None)
    levels = [lvl.value for lvl in infer_levels(from_emidec(vol.array)) if lvl is not None]
    assert levels[0] != levels[-1] and set(levels) == {"basal", "mid", "apical"}


def test_round_trip_through_json():
    vol, _ = _ring_volume()
    q = quantify_labels(vol, (1.5, 1.5, 8.0), levels=["basal", "mid", "apical"])
    from pscgan.clinical.quantify import Quantification

    back = Quantification.from_dict(json.loads(json.dumps(q.as_dict())))
    assert back == q


def test_a_slice_not_assessed_stays_out_of_the_scar_totals():
    from pscgan.clinical.quality import SliceQuality

    vol, _ = _ring_volume()
    everything = quantify_labels(vol, (1.5, 1.5, 8.0), levels=["basal", "mid", "apical"])
    flagged = SliceQuality(assessed=False, flags=["ring_not_closed"], reasons=["not a ring"])
    q = quantify_labels(vol, (1.5, 1.5, 8.0), levels=["basal", "mid", "apical"],
                        quality=[None, flagged, None])
    mid = q.slices[1]
    assert mid.quantities.scar_area_cm2 is None and mid.quantities.scar_ratio is None and mid.segments == []
    assert mid.not_assessed_reason == "not a ring" and mid.quality == flagged
    assert q.subject.scar_volume_ml == pytest.approx(everything.subject.scar_volume_ml * 2 / 3)
    assert q.subject.scar_ratio == pytest.approx(everything.subject.scar_ratio)
    assert q.subject.myocardium_volume_ml == pytest.approx(everything.subject.myocardium_volume_ml)
    assert q.subject.n_slices_assessed == 2
    assert not any(7 <= s <= 12 for s in q.segments)  # the mid slice's segments are not assessed
    assert any("1 of 3 slices not assessed" in n and n.endswith(": slice 2") for n in q.notes)
    back = Quantification.from_dict(q.as_dict())
    assert back.slices[1].quality == flagged and back.subject.n_slices_assessed == 2


def test_no_slice_assessed_gives_no_scar_totals_not_zero():
    q = quantify_labels(_ring_volume(2)[0], (1.5, 1.5, 8.0), scar_annotated=False)
    assert q.subject.scar_volume_ml is None and q.subject.scar_ratio is None
    assert q.subject.n_slices_assessed == 0 and q.segments == {}
    assert q.subject.myocardium_volume_ml > 0
    assert q.slices[0].not_assessed_reason == "scar not annotated"
    assert any("do not tell scar" in n for n in q.notes)
