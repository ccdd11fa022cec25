from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

import numpy as np
import pytest

import pscgan
from pscgan.clinical.quantify import quantify_labels
from pscgan.report import SliceView, SubjectReportData, write_subject_report
from pscgan.report.subject import subject_page

INJECTED = "<script>alert(1)</script>"


class _Tags(HTMLParser):
    """Collects start tags with their attributes, and the text of <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def _parse(doc: str) -> _Tags:
    parser = _Tags()
    parser.feed(doc)
    return parser


@pytest.fixture(scope="module")
def page_text(subject) -> str:
    return subject_page(subject)


def test_structure(page_text, subject):
    tags = _parse(page_text)
    names = [t for t, _ in tags.tags]
    imgs = [a for t, a in tags.tags if t == "img"]
    # per slice: cine strip, synthetic, acquired, predicted and reference overlays; plus the bull's-eye
    assert len(imgs) == 5 * len(subject.slices) + 1
    assert all(a["src"].startswith("data:image/png;base64,") and a.get("alt") for a in imgs)
    assert names.count("script") == 1 and names.count("section") >= 4
    ids = {a.get("id") for _, a in tags.tags}
    assert {"summary", "aha", "images", "slices-table", "legend"} <= ids
    assert "AHA 16-segment bull" in page_text and "Per-slice quantities" in page_text


def test_page_loads_nothing_from_outside(page_text):
    # no URL other than data: images (the CSP forbids loading anything else as well)
    attrs = [v for _, a in _parse(page_text).tags for k, v in a.items() if k in ("src", "href", "action")]
    assert all(v.startswith("data:image/") for v in attrs)
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page_text)
    assert not re.search(r"(https?:|ftp:|file:)?//[a-z0-9]", text, re.I)
    assert "url(" not in text and "@import" not in text


def test_footer_version_disclaimer_and_date(page_text):
    footer = page_text[page_text.index("<footer>") :]
    assert f"pscgan {pscgan.__version__}" in footer and "not for clinical decisions" in footer
    date = re.search(r"generated (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC", footer).group(1)
    assert (
        abs(
            (
                datetime.strptime(date, "%Y-%m-%d %H:%M") - datetime.now(timezone.utc).replace(tzinfo=None)
            ).total_seconds()
        )
        < 3600
    )


def test_metadata_text_is_escaped(synth):
    data = synth.make_subject(
        INJECTED,
        n_slices=1,
        size=32,
        frames=3,
        details={INJECTED: f'"><img src=x onerror=alert(2)>{INJECTED}'},
    )
    data.predicted.notes.append(INJECTED)
    doc = subject_page(data)
    tags = _parse(doc)
    assert INJECTED not in doc
    assert [t for t, _ in tags.tags].count("script") == 1
    assert all("alert" not in s for s in tags.scripts)
    assert all(not k.startswith("on") for _, a in tags.tags for k in a)  # no event-handler attribute
    assert doc.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # id, title, detail key, value, note


def test_undefined_scar_ratio_reads_not_defined(tmp_path):
    empty = np.zeros((32, 32), np.uint8)
    q = quantify_labels(empty[..., None], (1.5, 1.5, 8.0))
    assert q.subject.scar_ratio is None
    view = SliceView(
        0, None, (1.5, 1.5), np.random.default_rng(0).random((3, 32, 32)), None, None, empty, None
    )
    data = SubjectReportData("S-empty", [view], q, None, {"dice_scar": None, "ssim": float("nan")})
    doc = write_subject_report(data, tmp_path / "s.html").read_text()
    row = re.search(r"<td>Scar ratio \(scar / myocardium\)</td><td>(.*?)</td>", doc).group(1)
    assert row == '<span class="undef">not defined</span>'
    assert re.search(r"<td>Dice, scar</td><td><span class=\"undef\">not defined</span></td>", doc)
    assert re.search(r"SSIM[^<]*</td><td><span class=\"undef\">not defined</span></td>", doc)
    assert "nan" not in re.sub(r"data:image/png;base64,[^\"]+", "", doc).lower()
    assert "No AHA segment could be assessed" in doc


def test_written_atomically(synth, tmp_path, monkeypatch):
    subject = synth.make_subject("S-small", n_slices=1, size=32, frames=3)
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    target.write_text("previous")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_subject_report(subject, target)
    assert target.read_text() == "previous" and os.listdir(target.parent) == ["report.html"]
    monkeypatch.undo()
    assert write_subject_report(subject, target) == target
    assert target.read_text().startswith("<!DOCTYPE html>") and os.listdir(target.parent) == ["report.html"]


def test_three_slice_report_stays_small(page_text):
    assert len(page_text.encode()) < 3_000_000


def test_reference_free_subject_has_no_reference_column(synth):
    data = synth.make_subject("S-pred-only", n_slices=2, size=32, frames=3, with_reference=False)
    doc = subject_page(data)
    assert "reference segmentation" not in doc.lower() and "predicted - reference" not in doc
    assert (
        len([1 for t, _ in _parse(doc).tags if t == "img"]) == 2 * 3 + 1
    )  # cine, synthetic, overlay + bull's-eye


def test_slice_views_are_validated():
    cine = np.zeros((3, 16, 16))
    with pytest.raises(ValueError, match="slice 4: lge_reference has shape"):
        SliceView(4, None, (1.0, 1.0), cine, None, np.zeros((8, 8)), None, None)
    with pytest.raises(ValueError, match="labels 0..3"):
        SliceView(0, None, (1.0, 1.0), cine, None, None, np.full((16, 16), 4), None)
    with pytest.raises(ValueError, match=r"\(T, H, W\)"):
        SliceView(0, None, (1.0, 1.0), np.zeros((16, 16)), None, None, None, None)
    with pytest.raises(ValueError, match="spacing"):
        SliceView(0, None, (0.0, 1.0), cine, None, None, None, None)
