"""Reports show slices the quality check did not assess, and what a partial reference does not define."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.clinical.quality import SliceQuality
from pscgan.clinical.quantify import quantify_labels
from pscgan.report.build import build_reports
from pscgan.report.cohort import cohort_page
from pscgan.report.subject import subject_page

FLAG = SliceQuality(assessed=False, flags=["ring_not_closed"],
                    reasons=["myocardium is not a closed ring around the blood pool (40 % enclosed)"])


def _flagged_subject(synth):
    data = synth.make_subject("Q01")
    labels = np.stack([v.labels_predicted.T for v in data.slices], axis=-1)
    checks = [SliceQuality(assessed=True), FLAG, SliceQuality(assessed=True)]
    predicted = quantify_labels(labels, (1.5, 1.5, 8.0), levels=["basal", "mid", "apical"],
                                rv_angles_deg=[120.0] * 3, quality=checks)
    return dataclasses.replace(data, predicted=predicted, notes=["the reference annotates no scar"])


def test_a_flagged_slice_reads_not_assessed_with_its_reason(synth):
    html = subject_page(_flagged_subject(synth))
    assert 'id="quality"' in html and "1 of 3 slices were not assessed" in html
    assert "<b>Not assessed for scar</b>: myocardium is not a closed ring" in html
    assert '<span class="undef">not assessed</span>' in html
    assert "scar volume (predicted, 2 of 3 slices)" in html and "2 of 3" in html
    assert "the reference annotates no scar" in html


def test_subject_pages_of_slices_that_all_pass_say_so(synth):
    data = synth.make_subject("Q02")
    labels = np.stack([v.labels_predicted.T for v in data.slices], axis=-1)
    predicted = quantify_labels(labels, (1.5, 1.5, 8.0), quality=[SliceQuality(assessed=True)] * 3)
    html = subject_page(dataclasses.replace(data, predicted=predicted))
    assert "All 3 slices passed the quality check" in html and "Not assessed for scar" not in html


def test_the_cohort_page_counts_slices_not_assessed_and_shows_notes_once(synth):
    subjects = [_flagged_subject(synth), _flagged_subject(synth)]
    html = cohort_page(subjects)
    assert "2 of 6 predicted slices were not assessed by the quality check" in html
    assert html.count("the reference annotates no scar") == 1
    assert "slices assessed for scar" in html and ">2 of 3<" in html


def test_report_against_an_anatomy_only_reference_says_not_defined(tiny_ring_dataset, tiny_weights,
                                                                   make_anatomy_only, tmp_path):
    pred = tmp_path / "pred"
    res = CliRunner().invoke(app, ["predict", str(tiny_ring_dataset), "--weights", str(tiny_weights),
                                   "--out", str(pred)])
    assert res.exit_code == 0, res.output
    ref = tmp_path / "anatomy"
    shutil.copytree(tiny_ring_dataset, ref)
    make_anatomy_only(ref, annotated=["lv_blood_pool", "myocardium"])
    index = build_reports(pred, ref, tmp_path / "report")
    cohort = index.read_text()
    assert "The reference labels do not annotate scar" in cohort and "has no LGE images" in cohort
    assert "Dice, myocardium (healthy + scar)" in cohort
    page = (tmp_path / "report" / "subjects" / "ring_00.html").read_text()
    assert "The reference labels do not annotate scar" in page and "not defined" in page
    assert "Acquired LGE" not in page
