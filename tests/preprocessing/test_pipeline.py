"""The whole chain: the data contract, the way back, registration, pass-through, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pscgan.errors import ConfigError, InputError
from pscgan.io.image import ImageVolume
from pscgan.preprocessing.crop import crop_array
from pscgan.preprocessing.intensity import scale_intensity
from pscgan.preprocessing.pipeline import PreprocessOptions, prepare_arrays, prepare_subject
from pscgan.preprocessing.record import SliceRecord, to_original_geometry, to_original_volume
from pscgan.preprocessing.registration import apply_rigid, rigid_record

CENTRES = [(40.0, 50.0), (44.0, 47.0), (47.0, 45.0)]


def _volumes(make_slice, *, shape=(90, 84), n_phases=30, spacing=1.4, misregistration=None):
    """cine (x, y, slice, time), lge and labels (x, y, slice) of a 3-slice synthetic subject."""
    slices = [make_slice(shape=shape, centre_rc=c, spacing_rc=(spacing, spacing), n_phases=n_phases, seed=k,
                         noise=0.03) for k, c in enumerate(CENTRES)]
    lge = [s.lge for s in slices]
    labels = [s.labels for s in slices]
    if misregistration is not None:
        recs = [rigid_record(c, *misregistration) for c in CENTRES]
        lge = [apply_rigid(img, r, order=1) for img, r in zip(lge, recs)]
        labels = [apply_rigid(lab, r, order=0, fill=0) for lab, r in zip(labels, recs)]
    vox = (spacing, spacing, 8.0)
    cine = ImageVolume(np.stack([s.cine.T for s in slices], axis=2), spacing=vox, source="cine.nii.gz",
                       meta={"rr_interval_ms": 900.0})
    return (cine, ImageVolume(np.stack([x.T for x in lge], axis=2), spacing=vox, source="lge.nii.gz"),
            ImageVolume(np.stack([x.T for x in labels], axis=2), spacing=vox, source="labels.nii.gz"))


def test_data_contract(make_slice):
    cine, lge, labels = _volumes(make_slice)
    out = prepare_arrays(cine, lge, labels, PreprocessOptions(), subject_id="s7",
                         levels=["basal", "mid", "apical"], angles=[120.0, None, 110.0])
    assert [p.slice_index for p in out] == [0, 1, 2] and out[1].level == "mid"
    assert out[0].rv_insertion_angle_deg == 120.0 and out[1].rv_insertion_angle_deg is None
    for p in out:
        assert p.cine.shape == (25, 64, 64) and p.cine.dtype == np.float32
        assert p.lge.shape == (64, 64) and p.lge.dtype == np.float32
        assert p.labels.shape == (64, 64) and p.labels.dtype == np.uint8
        assert set(np.unique(p.labels)) == {0, 1, 2, 3}
        for img in (p.cine, p.lge):
            assert img.min() == -1.0 and img.max() == 1.0
        assert p.spacing_mm == (1.4, 1.4) and p.subject_id == "s7"
        assert p.record.temporal.original_n_phases == 30 and p.record.temporal.rr_interval_ms == 900.0
        assert p.record.localisation.method == "labels"
        text = json.dumps(p.record.model_dump(mode="json"), allow_nan=False)
        assert SliceRecord.model_validate_json(text) == p.record
        # the LV is at the centre of the crop
        rows, cols = np.nonzero(np.isin(p.labels, (1, 2, 3)))
        assert abs(rows.mean() - 32) <= 1 and abs(cols.mean() - 32) <= 1


def test_outputs_map_back_to_the_original_grid(make_slice):
    cine, lge, labels = _volumes(make_slice)
    out = prepare_arrays(cine, lge, labels)
    volume = to_original_volume([p.labels for p in out], [p.record for p in out], "labels")
    np.testing.assert_array_equal(volume, labels.array)  # the hearts lie inside the crops
    frames = to_original_geometry(out[0].cine, out[0].record, "image")
    assert frames.shape == (25, 90, 84)  # (time, rows, cols) of the original slice


def test_cine_localisation_without_labels(make_slice):
    cine, _, _ = _volumes(make_slice)
    out = prepare_arrays(cine, None, None, PreprocessOptions(localisation="auto"))
    for p, centre in zip(out, CENTRES):
        assert p.labels is None and p.lge is None and p.record.localisation.method == "cine"
        assert np.hypot(*(np.asarray(p.record.localisation.centre_rc) - centre)) < 1.0


def test_contract_sized_data_is_only_cropped_and_scaled(make_slice):
    cine, lge, labels = _volumes(make_slice, shape=(64, 64), n_phases=25)
    centred = prepare_arrays(cine, lge, labels, PreprocessOptions(localisation="centre"))
    for k, p in enumerate(centred):
        assert p.record.temporal.method == "identity" and p.record.inplane is None
        expected, _ = scale_intensity(cine.array[:, :, k, :].T)
        np.testing.assert_array_equal(p.cine, expected)
        np.testing.assert_array_equal(p.labels, labels.array[:, :, k].T)
    # centred on the LV: an integer shift with padding, values untouched
    on_lv = prepare_arrays(cine, lge, labels, PreprocessOptions(localisation="labels"))
    p = on_lv[0]
    display = cine.array[:, :, 0, :].T
    valid = crop_array(np.ones((64, 64), bool), p.record.crop, False)
    rec = p.record.intensity["cine"]
    shifted = crop_array(display, p.record.crop, 0.0)[:, valid]
    expected = np.clip(2 * (shifted - rec.low) / (rec.high - rec.low) - 1, -1, 1)
    np.testing.assert_allclose(p.cine[:, valid], expected, atol=1e-6)
    assert np.all(p.cine[:, ~valid] == -1.0)


def test_target_spacing(make_slice):
    cine, lge, labels = _volumes(make_slice)
    out = prepare_arrays(cine, lge, labels, PreprocessOptions(target_spacing_mm=1.0))
    p = out[1]
    assert p.spacing_mm == pytest.approx((1.0, 1.0), rel=0.01) and p.record.inplane is not None
    back = to_original_geometry(p.labels, p.record, "labels")
    truth = labels.array[:, :, 1].T
    a, b = back > 0, truth > 0
    assert 2 * np.sum(a & b) / (a.sum() + b.sum()) > 0.95


def test_registration_undoes_a_known_misregistration(make_slice):
    angle, shift = 5.0, (2.0, -3.0)
    cine, lge, labels = _volumes(make_slice, misregistration=(angle, shift))
    _, _, aligned_labels = _volumes(make_slice)
    out = prepare_arrays(cine, lge, labels, PreprocessOptions(register_lge=True), angles=[120.0] * 3)
    for k, p in enumerate(out):
        rec = p.record.registration
        assert rec is not None and rec.applied and abs(rec.rotation_deg + angle) <= 1.0
        assert p.rv_insertion_angle_deg == pytest.approx(120.0 + rec.rotation_deg)
        back = to_original_geometry(p.labels, p.record, "labels")
        truth = aligned_labels.array[:, :, k].T
        assert np.mean(back == truth) > 0.98


def test_labels_in_cine_geometry_do_not_move(make_slice):
    cine, lge, _ = _volumes(make_slice, misregistration=(4.0, (2.0, 2.0)))
    _, _, labels = _volumes(make_slice)
    out = prepare_arrays(cine, lge, labels, PreprocessOptions(register_lge=True, labels_follow_lge=False),
                         angles=[100.0] * 3)
    assert out[0].rv_insertion_angle_deg == 100.0
    back = to_original_volume([p.labels for p in out], [p.record for p in out], "labels")
    np.testing.assert_array_equal(back, labels.array)


def test_a_failed_registration_keeps_the_unregistered_lge(make_slice):
    """A pose on the bound (here: a 7 mm misregistration, bound 2 mm) is recorded, not applied, not fatal."""
    cine, lge, labels = _volumes(make_slice, misregistration=(0.0, (5.0, 0.0)))
    bounded = PreprocessOptions(register_lge=True, max_registration_shift_mm=2.0)
    out = prepare_arrays(cine, lge, labels, bounded)
    plain = prepare_arrays(cine, lge, labels, PreprocessOptions())
    for p, q in zip(out, plain):
        assert p.record.registration.outcome.value == "at_bound" and not p.record.registration.applied
        np.testing.assert_array_equal(p.lge, q.lge)
        np.testing.assert_array_equal(p.labels, q.labels)


def test_prepare_subject_from_the_layout(make_slice, tmp_path):
    from pscgan.data.layout import Provenance, SliceInfo, SubjectInfo, load_subject, write_subject

    cine, lge, labels = _volumes(make_slice, n_phases=20)
    info = SubjectInfo(subject_id="p001", pixel_spacing_mm=(1.4, 1.4), slice_thickness_mm=8.0, n_phases=20,
                       rr_interval_ms=800.0,
                       slices=[SliceInfo(index=k, level=lvl, rv_insertion_angle_deg=115.0 + k)
                               for k, lvl in enumerate(["basal", "mid", "apical"])],
                       provenance=Provenance(source="test", created_by="tests"))
    folder = write_subject(tmp_path, info, cine=cine.array, lge=lge.array, labels=labels.array)
    out = prepare_subject(load_subject(folder))
    assert [p.level for p in out] == ["basal", "mid", "apical"]
    assert [p.rv_insertion_angle_deg for p in out] == [115.0, 116.0, 117.0]
    assert out[2].record.temporal.rr_interval_ms == 800.0 and out[2].cine.shape == (25, 64, 64)
    assert out[0].record.sources["cine"].endswith("cine.nii.gz")


def test_bad_input(make_slice):
    cine, lge, labels = _volumes(make_slice, shape=(48, 48), n_phases=25)
    emidec_like = labels.array.copy()
    emidec_like[5, 5, 0] = 4  # EMIDEC no-reflow
    bad_labels = ImageVolume(emidec_like, spacing=labels.spacing, source="labels.nii.gz")
    with pytest.raises(InputError, match="labels.nii.gz: label values must be integers 0..3.*from_emidec"):
        prepare_arrays(cine, None, bad_labels)
    short_lge = ImageVolume(lge.array[:, :, :2], spacing=lge.spacing, source="lge.nii.gz")
    with pytest.raises(InputError, match="lge.nii.gz: has 2 slices but the cine has 3"):
        prepare_arrays(cine, short_lge, None)
    blank = cine.array.copy()
    blank[:, :, 1] = 7.0
    with pytest.raises(InputError, match="cine.nii.gz: slice 1: image has no contrast"):
        prepare_arrays(ImageVolume(blank, spacing=cine.spacing, source="cine.nii.gz"), None, None,
                       PreprocessOptions(localisation="centre"))
    with pytest.raises(InputError, match="cine.nii.gz: cine must be"):
        prepare_arrays(ImageVolume(cine.array[..., 0], spacing=cine.spacing, source="cine.nii.gz"))
    with pytest.raises(ConfigError, match="needs a label map"):
        prepare_arrays(cine, None, None, PreprocessOptions(localisation="labels"))
    with pytest.raises(ConfigError, match="crop_size"):
        PreprocessOptions(crop_size=0)
    with pytest.raises(ConfigError, match="invalid preprocessing option"):
        PreprocessOptions(localisation="somewhere")
