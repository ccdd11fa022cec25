from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pscgan.errors import InputError, OutputExistsError
from pscgan.phantom.validation import validate_dataset
from pscgan.phantom.validation_checks import Status

EMIDEC = Path(__file__).resolve().parents[1] / "data" / "emidec-samples"
FILES = ("validation.json", "validation.md", "cases.png", "thickening.png", "lge_histograms.png")


@pytest.fixture(scope="module")
def toy_report(toy_dataset, tmp_path_factory):
    return validate_dataset(toy_dataset, out=tmp_path_factory.mktemp("val"), reference=EMIDEC)


def _check(report, key):
    return next(c for c in report.checks if c.key == key)


def test_measures_the_known_toy_values(toy_report, toy_contrast):
    """The toy's rings have known contrast and motion: the measurements must recover them."""
    cine, lge = toy_contrast["cine"], toy_contrast["lge"]
    assert _check(toy_report, "cine_blood_myo").value == pytest.approx(cine["blood"] / cine["myo"], rel=0.03)
    scar_contrast = cine["scar"] / cine["myo"] - 1
    assert _check(toy_report, "cine_scar_contrast").value == pytest.approx(scar_contrast, abs=0.015)
    assert _check(toy_report, "lge_scar_blood").value == pytest.approx(lge["scar"] / lge["blood"], rel=0.03)
    assert _check(toy_report, "lge_scar_myo").value > 10
    # normal rings: blood-pool area ES / ED = 0.45 by construction
    assert _check(toy_report, "fac_normal").value == pytest.approx(0.55, abs=0.03)
    # area conservation with gamma 0.15 (conftest): mid ring 24 -> 16.1 mm, wall 7 -> 10.4 mm, 48.6 %
    normal_mid = [r["thickening"] for r in toy_report.thickening
                  if r["group"] == "normal" and r["level"] == "mid"]
    assert np.median(normal_mid) == pytest.approx(0.486, abs=0.06)
    # akinetic scar: neither border moves, so no thickening
    assert _check(toy_report, "thickening_scarred").value == pytest.approx(0.0, abs=0.08)
    assert _check(toy_report, "thickening_scar_vs_remote_p").status is Status.PASS


def test_consistency_with_recorded_truth(toy_report):
    for key in ("scar_area_total_vs_truth", "myocardium_area_vs_truth", "fac_vs_truth",
                "transmurality_vs_truth", "thickness_ed_vs_truth", "scar_segments_vs_truth"):
        assert _check(toy_report, key).status is Status.PASS, key
    ms = toy_report.measurements
    assert all(m.scar_area_mm2 == 0 for m in ms if m.normal or m.level == "apical")
    assert all(m.scar_segments == (m.truth["scar_segments"]) for m in ms)


def test_value_outside_range_is_reported_not_hidden(toy_report):
    # the toy's IHD rings move less than the spec's remote myocardium: that is a genuine failure
    remote = _check(toy_report, "thickening_remote")
    assert remote.value < 0.40 and remote.status is Status.FAIL
    assert remote in toy_report.failures
    doc = json.loads((toy_report.out / "validation.json").read_text())
    assert doc["n_failed"] == len(toy_report.failures) >= 1
    entry = next(c for c in doc["checks"] if c["key"] == "thickening_remote")
    assert entry["status"] == "fail" and entry["range"] == [0.40, 0.69]
    assert "**FAIL**" in (toy_report.out / "validation.md").read_text()


def test_outputs_are_written(toy_report):
    for name in FILES:
        path = toy_report.out / name
        assert path.is_file() and path.stat().st_size > 1000, name
    doc = json.loads((toy_report.out / "validation.json").read_text())
    assert doc["n_subjects"] == 4 and doc["n_slices"] == 12
    assert {c["status"] for c in doc["checks"]} <= {"pass", "fail", "info", "no data"}
    assert all(set(c) >= {"value", "range", "status", "source"} for c in doc["checks"])
    assert doc["lge_comparison"]["cases"] == ["sampleNegative", "samplePositive"]
    assert len(doc["slices"]) == 12


def test_lge_comparison_with_real_cases(toy_report):
    tissues = toy_report.lge_comparison["tissues"]
    for name in ("blood", "myocardium"):
        assert tissues[name]["wasserstein_phantom_vs_reference"] > 0
        assert tissues[name]["wasserstein_between_reference_cases"] > 0
    assert tissues["scar"]["reference_case_medians"]["sampleNegative"] is None
    assert tissues["scar"]["reference_pixels"] == 759 + 29  # infarction + no-reflow of samplePositive


def test_output_folder_is_guarded(tmp_path, make_toy):
    data = make_toy(tmp_path / "toy", n_subjects=2, seed=3)
    report = validate_dataset(data)
    assert report.out == data / "validation"
    with pytest.raises(OutputExistsError):
        validate_dataset(data)
    validate_dataset(data, overwrite=True)
    assert (data / "validation" / "validation.json").is_file()


def test_bad_dataset_is_an_input_error(tmp_path):
    with pytest.raises(InputError):
        validate_dataset(tmp_path / "nothing")


# --- a cohort from the phantom generator: the phantom meets the spec where a small cohort can tell

#: Checks that must pass on any cohort from the generator, however small (the function, contrast and
#: consistency properties the spec fixes); cohort proportions need more subjects than a test can afford.
MUST_PASS = (
    "r_endo_mid_normal_mm", "ef_parameter_normal", "ef_parameter_ihd", "thickening_normal",
    "thickening_scarred",
    "thickening_scar_vs_remote_p", "cine_blood_myo", "cine_blood_myo_signal", "cine_scar_contrast",
    "lge_scar_myo", "lge_scar_blood_signal", "normal_scar_area_mm2", "scar_area_mid_cm2",
    "scar_area_total_vs_truth", "scar_area_slice_vs_truth", "myocardium_area_vs_truth",
    "blood_area_ed_vs_truth",
    "fac_vs_truth", "lv_center_vs_truth_px", "thickness_ed_vs_truth", "transmurality_vs_truth",
    "scar_segments_vs_truth",
)


@pytest.fixture(scope="module")
def report(generated_cohort, tmp_path_factory):
    """The validation of a cohort from the phantom generator."""
    return validate_dataset(generated_cohort, out=tmp_path_factory.mktemp("validation"), reference=EMIDEC)


@pytest.mark.parametrize("key", MUST_PASS)
def test_spec_property_holds(report, key):
    check = _check(report, key)
    assert check.status is Status.PASS, check.to_json()


def test_scarred_segments_thicken_markedly_less_than_remote(report):
    assert _check(report, "thickening_scar_over_remote").value < 0.6
    groups = report.to_json()["thickening_groups"]
    assert groups["TEI 51-75%"]["median"] < groups["TEI 1-25%"]["median"] < groups["normal"]["median"]


def test_scar_area_from_labels_within_a_few_percent_of_truth(report):
    assert abs(_check(report, "scar_area_total_vs_truth").value) < 0.05
    assert _check(report, "scar_area_slice_vs_truth").value < 0.05


def test_figures_and_files_are_written(report):
    for path in report.files:
        assert path.is_file() and path.stat().st_size > 1000, path
    doc = json.loads((report.out / "validation.json").read_text())
    assert doc["n_subjects"] == 10 and doc["n_normal_subjects"] == 2 and doc["n_slices"] == 30
    assert doc["n_failed"] == len(report.failures)


def test_lge_histograms_compared_with_real_cases(report):
    for name in ("blood", "myocardium", "scar"):
        t = report.lge_comparison["tissues"][name]
        assert t["phantom_pixels"] > 0 and t["wasserstein_phantom_vs_reference"] > 0
    # normalisation anchors: myocardium median 0, blood median 1 on every slice
    assert report.lge_comparison["tissues"]["blood"]["phantom_median"] == pytest.approx(1.0, abs=0.05)
    assert report.lge_comparison["tissues"]["myocardium"]["phantom_median"] == pytest.approx(0.0, abs=0.05)
