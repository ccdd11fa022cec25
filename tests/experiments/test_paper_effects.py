"""The paper's reported ablation effects and the direction check against a measured table."""

from __future__ import annotations

import json

import pytest

from pscgan.experiments.paper_effects import compare_with_paper, paper_effects, verdict
from pscgan.experiments.tables import COLUMNS, render_markdown, write_tables
from pscgan.experiments.variants import ExperimentTable, variants_of


@pytest.mark.parametrize("table", ["table3", "table4", "table5"])
def test_every_paper_effect_names_a_variant_of_its_table(table):
    names = {v.name for v in variants_of(table)}
    effects = paper_effects(table)
    assert effects and set(effects) <= names - {"full"}
    assert {m for e in effects.values() for m in e} <= {c.key for c in COLUMNS}


def test_tables_without_ablation_numbers_in_the_paper_have_none():
    assert paper_effects(ExperimentTable.TABLE6) == {} and paper_effects("efficiency") == {}


def test_table_values_reproduce_the_differences_the_paper_states_in_its_text():
    # Section 7.4: the full SCLN against spatial-only, temporal-only and attention-removed, in
    # accuracy points, SSIM and Pearson's r; section 7.3: against progressive training removed.
    stated = {
        ("table4", "spatial_only"): (23.56, 0.30, 0.26),
        ("table4", "temporal_only"): (7.75, 0.21, 0.14),
        ("table4", "attention_off"): (0.45, 0.04, 0.03),
        ("table3", "progressive_off"): (2.26, 0.17, 0.04),  # the text rounds 2.26 to "2.2%"
    }
    for (table, variant), (accuracy, ssim, r) in stated.items():
        e = paper_effects(table)[variant]
        assert (e["accuracy"].full - e["accuracy"].variant) * 100 == pytest.approx(accuracy)
        assert e["ssim"].full - e["ssim"].variant == pytest.approx(ssim)
        assert e["scar_size_r"].full - e["scar_size_r"].variant == pytest.approx(r)
        assert {x.direction for x in e.values()} == {-1}
    # Section 7.5: the auxiliary loss improved overall accuracy by 0.13 points.
    aux = paper_effects("table5")["auxiliary_off"]["accuracy"]
    assert (aux.full - aux.variant) * 100 == pytest.approx(0.13)
    # Rows that exist only as differences in the text (2DConv+1DConv: 2.65 points, SSIM 0.08).
    conv = paper_effects("table4")["conv2d_conv1d"]
    assert conv["accuracy"].variant == pytest.approx(0.9452) and conv["ssim"].variant == pytest.approx(0.70)


@pytest.mark.parametrize(
    ("paper", "difference", "p", "tested", "expected"),
    [
        (-1, -0.1, 0.01, True, "same direction"),
        (-1, 0.1, 0.01, True, "opposite direction"),
        (-1, 0.1, 0.20, True, "no significant difference here"),
        (-1, 0.1, None, True, "no significant difference here"),
        (0, 0.1, 0.01, True, "paper: no difference, here: better"),
        (0, -0.1, 0.01, True, "paper: no difference, here: worse"),
        (0, 0.1, 0.5, True, "no difference in either"),
        (-1, -0.1, None, False, "same direction (not tested)"),
        (-1, 0.2, None, False, "opposite direction (not tested)"),
        (-1, None, None, True, "not measured here"),
    ],
)
def test_verdict(paper, difference, p, tested, expected):
    assert verdict(paper, difference, p, tested=tested) == expected


def _summary(mean):
    return {"mean": mean, "sd": 0.0, "median": mean, "n": 2, "n_undefined": 0, "values": [mean, mean]}


def _test(median, p):
    return {"n": 70, "n_excluded": 0, "median_difference": median, "statistic": 1.0, "p_value": p}


def _result(table="table3"):
    base = {"accuracy": 0.98, "dice_overall": 0.8, "dice_scar": 0.4, "ssim": 0.50, "psnr_db": 16.0,
            "scar_size_r": 0.5, "scar_ratio_r": 0.4, "scar_ratio_abs_error": 0.05}
    worse = {**base, "accuracy": 0.97, "ssim": 0.52, "scar_size_r": 0.4}
    return {
        "table": table, "title": "T", "preset": "cpu", "reference": "full", "seeds": 2,
        "budget": {"kind": "steps", "value": 10}, "paired_metrics": ["accuracy", "ssim", "psnr_db"],
        "rows": [
            {"name": "full", "label": "PSCGAN", "seeds": [0, 1], "tests": {},
             "metrics": {k: _summary(v) for k, v in base.items()}},
            {"name": "adversarial_off", "label": "Adversarial learning removed", "seeds": [0, 1],
             "metrics": {k: _summary(v) for k, v in worse.items()},
             # accuracy: the median paired difference is 0 (ties), so the means' difference decides
             "tests": {"accuracy": _test(0.0, 0.001), "ssim": _test(0.02, 0.3)}},
        ],
    }


def test_comparison_follows_the_tests_and_the_means():
    by_metric = {e["metric"]: e for e in compare_with_paper(_result())}
    assert set(by_metric) == {"accuracy", "ssim", "scar_size_r"}
    assert by_metric["accuracy"]["verdict"] == "same direction"
    assert by_metric["ssim"]["verdict"] == "no significant difference here"
    assert by_metric["scar_size_r"]["verdict"] == "same direction (not tested)"
    assert by_metric["accuracy"]["paper_variant"] == pytest.approx(0.9592)
    assert by_metric["accuracy"]["mean_difference"] == pytest.approx(-0.01)


def test_a_median_difference_against_the_means_decides_a_tested_direction():
    result = _result()
    result["rows"][1]["tests"]["accuracy"] = _test(0.001, 0.001)  # means lower, most pairs higher
    (accuracy,) = [e for e in compare_with_paper(result) if e["metric"] == "accuracy"]
    assert accuracy["verdict"] == "opposite direction"


def test_without_reference_runs_nothing_is_compared():
    result = _result()
    result["rows"] = result["rows"][1:]
    assert compare_with_paper(result) == []


def test_markdown_and_json_carry_the_comparison(tmp_path):
    md = render_markdown(_result())
    assert "### Against the paper's reported effects" in md
    assert "| Adversarial learning removed | Accuracy (overall) | 97.17% → 95.92% | 98.00% → 97.00% |" in md
    assert "Of 3 effects: same direction 2; no significant difference here 1." in md
    assert "Against the paper" not in render_markdown(_result("table6"))
    paths = write_tables(tmp_path, _result())
    saved = json.loads(paths["json"].read_text())
    assert [e["metric"] for e in saved["paper_comparison"]] == ["accuracy", "ssim", "scar_size_r"]
