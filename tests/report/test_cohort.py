from __future__ import annotations

import re

import numpy as np
import pytest

from pscgan.report import worst_first, write_cohort_report
from pscgan.report.cohort import cohort_page, scar_ratio_error

INJECTED = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def page_text(cohort) -> str:
    return cohort_page(cohort, subject_links={s.subject_id: f"subjects/{s.subject_id}.html" for s in cohort})


def _subject_rows(doc: str) -> list[str]:
    body = doc[doc.index('<table class="subjects">') :]
    body = body[: body.index("</table>")]
    return re.findall(r"<tr><td>\d+</td><td>(.*?)</td>", body)


def test_worst_first_order(cohort, page_text):
    ordered = worst_first(cohort)
    errors = [scar_ratio_error(s) for s in ordered]
    defined = [e for e in errors if e is not None]
    assert defined == sorted(defined, reverse=True) and len(defined) == 5
    assert ordered[-1].subject_id == "C99-noref" and errors[-1] is None
    # brute force: the largest error belongs to the first subject
    assert ordered[0] is max((s for s in cohort if scar_ratio_error(s) is not None), key=scar_ratio_error)
    names = [re.sub(r"<[^>]+>", "", cell) for cell in _subject_rows(page_text)]
    assert names == [s.subject_id for s in ordered]


def test_ties_broken_by_lowest_scar_dice(synth):
    a = synth.make_subject("A", n_slices=1, size=32, frames=2, shift_deg=0.0)
    b = synth.make_subject("B", n_slices=1, size=32, frames=2, shift_deg=0.0)
    a.imaging_metrics["dice_scar"], b.imaging_metrics["dice_scar"] = 0.9, 0.4
    assert scar_ratio_error(a) == scar_ratio_error(b)
    assert [s.subject_id for s in worst_first([a, b])] == ["B", "A"]


def test_subjects_without_reference_are_counted_and_left_out(page_text):
    assert "5 subjects with predicted and reference labels; 1 without a reference" in page_text
    rows = dict(re.findall(r"<tr><td>(scar volume \(ml\)|scar ratio \(%\))</td><td>(\d+)</td>", page_text))
    assert rows == {"scar volume (ml)": "5", "scar ratio (%)": "5"}


def test_agreement_numbers_match_a_direct_computation(cohort, page_text):
    paired = [s for s in cohort if s.reference is not None]
    p = np.array([s.predicted.subject.scar_ratio for s in paired]) * 100
    r = np.array([s.reference.subject.scar_ratio for s in paired]) * 100
    d = p - r
    bias, sd = d.mean(), d.std(ddof=1)
    row = re.search(r"<tr><td>scar ratio \(%\)</td>(.*?)</tr>", page_text).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row)
    assert cells[3] == f"{bias:+.2f}" and cells[4] == f"{bias - 1.96 * sd:+.2f} to {bias + 1.96 * sd:+.2f}"
    assert float(cells[5]) == pytest.approx(np.corrcoef(p, r)[0, 1], abs=6e-4)


def test_links_are_relative_and_escaped(cohort, tmp_path):
    links = {s.subject_id: f"subjects/{s.subject_id}.html" for s in cohort}
    links["C00"] = 'a b/"x".html'
    doc = write_cohort_report(cohort, tmp_path / "c.html", subject_links=links).read_text()
    assert 'href="a%20b/%22x%22.html"' in doc and 'href="subjects/C01.html"' in doc
    for bad in ("https://example.org/x.html", "//host/x.html", "/abs/x.html", "javascript:alert(1)"):
        with pytest.raises(ValueError, match="relative"):
            cohort_page(cohort, subject_links={"C00": bad})


def test_cohort_escapes_subject_ids(synth):
    subjects = [
        synth.make_subject(INJECTED, n_slices=1, size=32, frames=2),
        synth.make_subject("B", n_slices=1, size=32, frames=2, shift_deg=30.0),
    ]
    doc = cohort_page(subjects, subject_links={INJECTED: "x.html"})
    assert INJECTED not in doc and "<script" not in doc
    assert '<a href="x.html">&lt;script&gt;alert(1)&lt;/script&gt;</a>' in doc


def test_imaging_metrics_summary_and_images(page_text):
    assert re.search(r"<td>Dice, scar</td><td>[0-9.]+ \([0-9.]+\)</td>", page_text)
    imgs = re.findall(r'<img src="([^"]{0,30})', page_text)
    assert len(imgs) == 2 and all(src.startswith("data:image/png") for src in imgs)


def test_a_reference_without_scar_gets_a_sentence_not_empty_plots(cohort):
    from dataclasses import replace

    unscarred = []
    for s in (s for s in cohort if s.reference is not None):
        ref = replace(s.reference.subject, scar_volume_ml=None, scar_ratio=None)
        unscarred.append(replace(s, reference=replace(s.reference, subject=ref)))
    page = cohort_page(unscarred, subject_links={s.subject_id: "x.html" for s in unscarred})
    assert "No plot of scar volume: 0 subject(s)" in page and "No plot of scar ratio: 0 subject(s)" in page
    assert "Bland-Altman plots of scar volume" not in page and "Bland-Altman plots of scar ratio" not in page
    # the full cohort keeps both figures
    full = cohort_page(cohort, subject_links={s.subject_id: "x.html" for s in cohort})
    assert "Bland-Altman plots of scar volume" in full and "No plot of" not in full
