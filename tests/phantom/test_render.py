"""Rendering (the deterministic step): determinism, labels vs truth, motion, contrast."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from pscgan.geometry.aha import segment_of_angle
from pscgan.geometry.polar import angle_deg, display_spacing
from pscgan.geometry.thickness import segment_thickening, segment_wall_thickness_from_labels
from pscgan.phantom.acquisition import SCANNER_SCALE
from pscgan.phantom.anatomy import slice_anatomy
from pscgan.phantom.motion import frame_boundaries
from pscgan.phantom.params import SubjectParams, sample_subject
from pscgan.phantom.render import RenderedSubject, lv_reach_mm, render_subject, written_spacing

BIG_SCAR_SEEDS = (38, 64, 180)  # IHD, one mid slice, near-transmural infarcts 120-140 degrees wide


def _clean(p: SubjectParams, **contrast: float) -> SubjectParams:
    """Same subject without shading, noise, ghosts or banding (for contrast measurements)."""
    acq = p.acquisition.model_copy(update=dict(coil_shading=0.0, snr_cine=1e6, snr_lge=1e6, ghost_cine=0.0,
                                               ghost_lge=0.0, banding=None, gain_cine=2.0, gain_lge=2.0))
    return p.model_copy(update=dict(acquisition=acq, contrast=p.contrast.model_copy(update=contrast)))


def _display(vol: np.ndarray, k: int, t: int | None = None) -> np.ndarray:
    return (vol[:, :, k] if t is None else vol[:, :, k, t]).T


def _interior(mask: np.ndarray) -> np.ndarray:
    return ndimage.binary_erosion(mask, np.ones((3, 3), bool))


@pytest.fixture(scope="module")
def ihd() -> tuple[SubjectParams, RenderedSubject]:
    p = sample_subject(5, normal=False)
    return p, render_subject(p)


@pytest.fixture(scope="module")
def big_scars() -> list[tuple[SubjectParams, RenderedSubject]]:
    out = []
    for seed in BIG_SCAR_SEEDS:
        p = sample_subject(seed, normal=False, n_slices=1)
        out.append((p, render_subject(p)))
    return out


def test_render_is_deterministic_and_seed_dependent(ihd: tuple[SubjectParams, RenderedSubject]) -> None:
    p, first = ihd
    again = render_subject(SubjectParams.model_validate(p.model_dump(mode="json")))
    for name in ("cine", "lge", "labels", "cine_labels"):
        assert np.array_equal(getattr(first, name), getattr(again, name)), name
    assert again.info == first.info
    other = render_subject(sample_subject(6, normal=False, n_slices=1))
    assert not np.array_equal(other.cine[:, :, 0], first.cine[:, :, 1])


def test_layout_shapes_types_and_metadata(ihd: tuple[SubjectParams, RenderedSubject]) -> None:
    p, out = ihd
    assert out.cine.shape == (64, 64, 3, 25) and out.cine.dtype == np.float32
    assert out.lge.shape == (64, 64, 3) and out.labels.dtype == np.uint8
    assert out.cine_labels.shape == (64, 64, 3, 25) and np.array_equal(out.labels, out.cine_labels[..., 0])
    assert set(np.unique(out.labels)) <= {0, 1, 2, 3}
    assert np.all(out.cine == np.rint(out.cine)) and 0 <= out.cine.min() and out.cine.max() <= 4095
    info = out.info
    assert info.n_phases == 25 and info.ed_phase == 0 and info.provenance.source == "phantom"
    assert info.pixel_spacing_mm[0] == info.pixel_spacing_mm[1] >= p.acquisition.pixel_spacing_mm
    assert [s.rv_insertion_angle_deg for s in info.slices] == [p.anatomy.theta_a_deg] * 3
    truth = info.phantom["truth"]["slices"]
    keys = {"scar_area_mm2", "myocardium_area_mm2", "blood_pool_area_mm2_ed", "blood_pool_area_mm2_es",
            "es_phase", "ef", "transmurality_by_segment", "scar_segments", "territory", "cine_scar_contrast",
            "wall_thickness_mm_ed", "wall_thickness_mm_es", "lv_center_rc"}
    assert all(keys <= set(t) for t in truth)
    for k, t in enumerate(truth):  # the LV centre is where the cavity is
        cavity = _display(out.labels, k) == 1
        assert np.hypot(*(np.array(ndimage.center_of_mass(cavity)) - t["lv_center_rc"])) < 1.5


def test_labels_agree_with_the_truth(ihd, big_scars) -> None:
    cases = [ihd, *big_scars]
    n_checked = 0
    for p, out in cases:
        area = out.info.pixel_spacing_mm[0] ** 2
        for k, t in enumerate(out.info.phantom["truth"]["slices"]):
            lab = _display(out.labels, k)
            assert np.sum(lab >= 2) * area == pytest.approx(t["myocardium_area_mm2"], rel=0.05)
            assert np.sum(lab == 1) * area == pytest.approx(t["blood_pool_area_mm2_ed"], rel=0.05)
            es = _display(out.cine_labels, k, t["es_phase"])
            assert np.sum(es == 1) * area == pytest.approx(t["blood_pool_area_mm2_es"], rel=0.06)
            if t["scar_area_mm2"] >= 100:
                n_checked += 1
                assert np.sum(lab == 3) * area == pytest.approx(t["scar_area_mm2"], rel=0.12)
            # scar pixels lie in the segments the truth calls scarred
            rows, cols = np.nonzero(lab == 3)
            if rows.size:
                spacing = display_spacing(out.info.pixel_spacing_mm)
                theta = angle_deg(rows, cols, tuple(t["lv_center_rc"]), spacing)
                theta_a = out.info.slices[k].rv_insertion_angle_deg
                seg = np.asarray(segment_of_angle(theta, t["level"], theta_a))
                assert np.mean(np.isin(seg, t["scar_segments"])) > 0.95
            for s, v in t["transmurality_by_segment"].items():
                if v >= 0.2:
                    assert np.any(seg == int(s))
    assert n_checked >= 3


def test_normal_subject_has_no_scar() -> None:
    out = render_subject(sample_subject(3, normal=True, n_slices=2))
    assert not np.any(out.cine_labels == 3)
    truth = out.info.phantom["truth"]["slices"]
    assert all(t["scar_area_mm2"] == 0 and t["scar_segments"] == [] for t in truth)


def test_scarred_segments_thicken_less_than_remote(big_scars) -> None:
    scarred, remote = [], []
    for p, out in big_scars:
        t = out.info.phantom["truth"]["slices"][0]
        spacing = display_spacing(out.info.pixel_spacing_mm)
        theta_a = out.info.slices[0].rv_insertion_angle_deg
        ed = segment_wall_thickness_from_labels(_display(out.cine_labels, 0, 0), "mid", theta_a,
                                                spacing=spacing)
        es = segment_wall_thickness_from_labels(_display(out.cine_labels, 0, t["es_phase"]), "mid", theta_a,
                                                spacing=spacing)
        for seg, thick in segment_thickening(ed, es).items():
            tei = t["transmurality_by_segment"][str(seg)]
            (scarred if tei > 0.5 else remote if tei == 0 else []).append(thick)
    assert len(scarred) >= 3 and len(remote) >= 3
    assert np.mean(scarred) < 0.5 * np.mean(remote)
    assert np.mean(scarred) < 0.2  # JCMR 2009: infarcted segments thicken < 30%


def test_cine_scar_contrast_is_the_sampled_one_and_zero_when_switched_off(big_scars) -> None:
    p, _ = big_scars[0]
    dark = render_subject(_clean(p, cine_scar_contrast=-0.08))
    iso = render_subject(_clean(p, cine_scar_contrast=0.0))
    labels = _display(dark.labels, 0)
    scar = _interior(labels == 3)
    # the image difference on the scar is the contrast times the myocardial level (a ratio of the
    # images would also carry the Gibbs ringing of the bright blood pool next to the wall)
    myo_level = dark.info.phantom["truth"]["cine_signal"]["myocardium"] * SCANNER_SCALE * 2.0
    diff = (_display(dark.cine, 0, 0) - _display(iso.cine, 0, 0))[scar] / myo_level
    assert np.median(diff) == pytest.approx(-0.08, abs=0.015)
    far = ndimage.distance_transform_edt(labels != 3) > 6
    assert np.allclose(_display(dark.cine, 0, 0)[far], _display(iso.cine, 0, 0)[far], rtol=0.01, atol=2)
    # the switch: same subject, same everything, scar cine contrast exactly 0
    off = sample_subject(BIG_SCAR_SEEDS[0], normal=False, n_slices=1, cine_scar_contrast=False)
    assert off.contrast.cine_scar_contrast == 0.0
    off_out = render_subject(_clean(off))
    assert np.array_equal(off_out.cine, iso.cine) and np.array_equal(off_out.lge, iso.lge)


def test_lge_scar_bright_and_cine_blood_myocardium_ratio(ihd, big_scars) -> None:
    blood_myo = []
    for p, out in [ihd, *big_scars]:
        for k in range(out.labels.shape[2]):
            lab = _display(out.labels, k)
            cine = _display(out.cine, k, 0)
            wall = lab >= 2
            myo = _interior(lab == 2) & _interior(wall)
            blood_myo.append(np.median(cine[_interior(lab == 1)]) / np.median(cine[myo]))
            if np.sum(lab == 3) > 20:
                lge = _display(out.lge, k)
                assert np.median(lge[lab == 3]) > 1.5 * np.median(lge[lab == 2])
    assert 2.5 <= np.median(blood_myo) <= 4.0
    assert min(blood_myo) > 2.0


def test_written_spacing_stays_in_the_spec_range() -> None:
    """Large hearts get a coarser written grid so that the LV stays inside the crop, within 1.3-1.6 mm."""
    for seed in range(100):
        p = sample_subject(seed, normal=seed % 6 == 0)
        reach = max(lv_reach_mm(p, frame_boundaries(p, sl, slice_anatomy(p, sl))) for sl in p.slices)
        spacing = written_spacing(p, reach, 64)
        assert p.acquisition.pixel_spacing_mm <= spacing <= 1.6
        assert reach <= (32 - 1.5) * spacing + 1e-9


def test_psir_lge_is_signed() -> None:
    p = sample_subject(38, normal=False, n_slices=1, lge_reconstruction="psir")
    out = render_subject(p)
    lab = _display(out.labels, 0)
    lge = _display(out.lge, 0)
    assert lge.min() < 0 < np.median(lge[lab == 1])
