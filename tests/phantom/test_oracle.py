"""Oracle LGE images: parameters changed, noise really off, LGE geometry registered, class-mean painting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.phantom.anatomy import slice_anatomy
from pscgan.phantom.cohort import CohortOptions, generate_cohort
from pscgan.phantom.motion import frame_boundaries
from pscgan.phantom.oracle import (
    NOISE_FREE_SNR,
    REGISTERED,
    OracleKind,
    oracle_params,
    paint_class_means,
    prior_misregistrations,
    recorded_params,
    with_misregistration,
)
from pscgan.phantom.params import SubjectParams, sample_subject
from pscgan.phantom.render import render_subject


@pytest.fixture(scope="module")
def params() -> SubjectParams:
    return sample_subject(3, normal=False, n_slices=1)


def _changed_fields(a: SubjectParams, b: SubjectParams) -> set[str]:
    da, db = a.model_dump(mode="json"), b.model_dump(mode="json")
    changed = {f"acquisition.{k}" for k in da["acquisition"] if da["acquisition"][k] != db["acquisition"][k]}
    return changed | {k for k in da if k != "acquisition" and da[k] != db[k]}


def test_oracle_params_change_only_the_named_randomness(params: SubjectParams) -> None:
    before = params.model_dump(mode="json")
    clean = oracle_params(params, "noise_free")
    registered = oracle_params(params, OracleKind.NOISE_FREE_REGISTERED)
    assert params.model_dump(mode="json") == before  # the input is not modified
    assert _changed_fields(params, clean) == {"acquisition.snr_lge"}
    assert clean.acquisition.snr_lge == NOISE_FREE_SNR
    assert _changed_fields(clean, registered) == {f"acquisition.{f}" for f in REGISTERED}
    a = registered.acquisition
    assert {f: getattr(a, f) for f in REGISTERED} == REGISTERED


def test_noise_free_render_has_no_noise_and_keeps_the_cine(params: SubjectParams) -> None:
    original = render_subject(params)
    clean_params = oracle_params(params, OracleKind.NOISE_FREE)
    clean = render_subject(clean_params)
    reseeded = clean_params.model_copy(update={"acquisition": clean_params.acquisition.model_copy(
        update={"noise_seed": params.acquisition.noise_seed + 1})})
    assert np.array_equal(clean.cine, original.cine)  # the noise stream is drawn from as before
    assert np.array_equal(render_subject(reseeded).lge, clean.lge)  # another noise seed changes nothing
    assert not np.array_equal(clean.lge, original.lge)  # the original did carry noise
    # Without noise the residual is the noise alone: zero mean where the signal is far above it (no
    # Rician bias), so the mean intensity of the bright pixels hardly moves.
    bright = clean.lge > np.percentile(clean.lge, 75)
    assert abs(original.lge[bright].mean() / clean.lge[bright].mean() - 1.0) < 0.01


def test_registered_lge_frame_is_the_end_diastolic_geometry(params: SubjectParams) -> None:
    p = oracle_params(params, OracleKind.NOISE_FREE_REGISTERED)
    anatomy = slice_anatomy(p, p.slices[0])
    fb = frame_boundaries(p, p.slices[0], anatomy)
    assert np.all(fb.translation_mm[-1] == 0.0) and fb.lv_rotation_bins[-1] == 0 and fb.contraction[-1] == 0.0
    np.testing.assert_allclose(fb.radii["endo"][-1], anatomy.r_endo, rtol=1e-6)
    np.testing.assert_allclose(fb.radii["epi"][-1], anatomy.r_epi, rtol=1e-6)
    np.testing.assert_allclose(fb.center_scale[-1], 1.0, rtol=1e-6)


def test_prior_misregistrations_are_seeded_draws_within_the_priors(params: SubjectParams) -> None:
    draws = prior_misregistrations(6, seed=[1, 2])
    assert draws == prior_misregistrations(6, seed=[1, 2]) and draws != prior_misregistrations(6, seed=[1, 3])
    assert all(set(d) == set(REGISTERED) for d in draws)
    assert len({d["misregistration_deg"] for d in draws}) == 6
    assert all(max(map(abs, d["misregistration_mm"])) <= 4.0 and 0.95 <= d["lge_radius_scale"] <= 1.0
               for d in draws)
    moved = with_misregistration(params, draws[0])
    assert {f: getattr(moved.acquisition, f) for f in REGISTERED} == draws[0]
    assert _changed_fields(params, moved) <= {f"acquisition.{f}" for f in REGISTERED}
    with pytest.raises(ValueError, match="snr_lge"):
        with_misregistration(params, {"snr_lge": 1.0})


def test_paint_class_means_matches_a_brute_force_loop() -> None:
    rng = np.random.default_rng(0)
    image = rng.normal(size=(3, 16, 16))
    labels = rng.integers(0, 4, size=(3, 16, 16))
    labels[1][labels[1] == 3] = 2  # a class missing from one slice
    painted = paint_class_means(image, labels)
    expected = np.zeros_like(image)
    for k in range(3):
        for c in range(4):
            if np.any(labels[k] == c):
                expected[k][labels[k] == c] = image[k][labels[k] == c].mean()
    np.testing.assert_allclose(painted, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(paint_class_means(painted, labels), painted, atol=1e-6)  # already constant
    with pytest.raises(ValueError, match="same"):
        paint_class_means(image, labels[:, :8])


def test_recorded_params_rerender_the_written_lge(tmp_path: Path, make_toy) -> None:
    data = tmp_path / "phantom"
    generate_cohort(data, CohortOptions(n_subjects=1, n_slices=1), workers=1, progress=False)
    folder = data / "phantom_0000"
    params, matrix = recorded_params(folder)
    from pscgan.io.nifti import read_nifti

    written = read_nifti(folder / "lge.nii.gz", ndim=3).array
    assert np.array_equal(render_subject(params, matrix=matrix).lge, written)
    toy = make_toy(tmp_path / "toy", n_subjects=1)
    with pytest.raises(InputError, match="phantom parameters"):
        recorded_params(toy / "toy00")
