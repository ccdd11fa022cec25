"""The cohort report: agreement of predicted with reference scar quantities, metric summaries, and a
table of subjects sorted worst first, linking to the subject reports.

Subjects without reference labels are listed but stay out of every agreement statistic (the page says
how many). Slices the prediction's quality check did not assess are counted per subject ("slices
assessed") and under Notes, where what the subjects' notes say about the reference (e.g. that it
annotates no scar) is shown once.
The worst-first order is: largest absolute scar-ratio error (percentage points) first, then
the lowest scar Dice; subjects whose error is not defined follow, those without a reference come last.

Example:
    >>> import tempfile, pathlib
    >>> out = write_cohort_report([], pathlib.Path(tempfile.mkdtemp()) / "cohort.html")
    >>> "0 subjects" in out.read_text()
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit

from pscgan.clinical.agreement import bland_altman, diagnostic_accuracy, pearson
from pscgan.clinical.quantify import Quantification
from pscgan.evaluation.summary import summarise
from pscgan.io.atomic import write_text_atomic
from pscgan.report.data import SubjectReportData
from pscgan.report.figures import agreement_png
from pscgan.report.formatting import (
    NOT_DEFINED,
    fmt_fixed,
    fmt_mean_sd,
    fmt_ratio,
    fmt_value,
    is_defined,
    metric_name,
)
from pscgan.report.html import Html, element, esc, figure, image, join, page, section, table
from pscgan.report.panels import data_uri

#: Imaging metrics shown as columns of the subject table (when any subject has them).
SUBJECT_TABLE_METRICS = ("dice_scar", "dice_overall", "dice_myocardium", "ssim")


def has_reference(s: SubjectReportData) -> bool:
    return s.predicted is not None and s.reference is not None


def _both(s: SubjectReportData) -> tuple[Quantification, Quantification] | None:
    """(predicted, reference) of a subject with both."""
    return (s.predicted, s.reference) if s.predicted is not None and s.reference is not None else None


def scar_ratio_error(s: SubjectReportData) -> float | None:
    """``|predicted - reference|`` scar ratio in percentage points, or ``None`` when not defined."""
    both = _both(s)
    if both is None:
        return None
    p, r = both[0].subject.scar_ratio, both[1].subject.scar_ratio
    return 100.0 * abs(p - r) if is_defined(p) and is_defined(r) else None


def worst_first(subjects: Sequence[SubjectReportData]) -> list[SubjectReportData]:
    """Subjects ordered worst first (see the module docstring)."""

    def key(s: SubjectReportData) -> tuple[int, float, float, str]:
        err = scar_ratio_error(s)
        dice = (s.imaging_metrics or {}).get("dice_scar")
        group = 0 if err is not None else 1 if has_reference(s) else 2
        return group, -(err or 0.0), float(dice) if is_defined(dice) else math.inf, s.subject_id

    return sorted(subjects, key=key)


def _relative_href(href: str) -> str:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith(("/", "\\")):
        raise ValueError(f"subject links must be relative paths (the report works offline), got {href!r}")
    return quote(href, safe="/#.-_~%")


def _pairs(subjects: Sequence[SubjectReportData], what: str, scale: float = 1.0) -> tuple[list, list]:
    both = [q for s in subjects if (q := _both(s)) is not None]
    pred = [getattr(p.subject, what) for p, _ in both]
    ref = [getattr(r.subject, what) for _, r in both]
    return ([None if v is None else scale * v for v in pred], [None if v is None else scale * v for v in ref])


_QUANTITIES = (
    ("scar volume", "ml", "scar_volume_ml", 1.0),
    ("myocardial volume", "ml", "myocardium_volume_ml", 1.0),
    ("scar ratio", "%", "scar_ratio", 100.0),
)


def _agreement_section(subjects: Sequence[SubjectReportData], n_without: int) -> Html:
    paired = [s for s in subjects if has_reference(s)]
    intro = esc(
        f"{len(paired)} subjects with predicted and reference labels; {n_without} without a reference "
        "are listed below but left out of these statistics."
    )
    if len(paired) < 2:
        return section("Agreement with the reference", element("p", intro, class_="muted"), id_="agreement")
    rows, defined = [], {}
    for name, unit, attr, scale in _QUANTITIES:
        pred, ref = _pairs(paired, attr, scale)
        ba, corr = bland_altman(pred, ref), pearson(pred, ref)
        defined[name] = ba.n
        pred_s, ref_s = summarise(pred), summarise(ref)
        loa = NOT_DEFINED if ba.lower is None else Html(f"{ba.lower:+.2f} to {ba.upper:+.2f}")
        rows.append(
            [
                f"{name} ({unit})",
                str(ba.n),
                esc(pred_s.format(2)),
                esc(ref_s.format(2)),
                Html(f"{ba.bias:+.2f}") if ba.bias is not None else NOT_DEFINED,
                loa,
                fmt_value(corr.r),
                str(ba.n_excluded),
            ]
        )
    stats = table(
        [
            "quantity",
            "pairs",
            "predicted mean (sd)",
            "reference mean (sd)",
            "bias (pred - ref)",
            "95 % limits of agreement",
            "Pearson r",
            "pairs not defined",
        ],
        rows,
    )
    plots = []
    for name, unit, attr, scale in (_QUANTITIES[0], _QUANTITIES[2]):
        if defined[name] < 2:  # empty axes say nothing: say why there is no plot instead
            plots.append(element("p", esc(f"No plot of {name}: {defined[name]} subject(s) with it defined in "
                                          "both the prediction and the reference, and a plot needs 2."),
                                 class_="muted"))
            continue
        pred, ref = _pairs(paired, attr, scale)
        png = agreement_png(pred, ref, quantity=name, unit=unit)
        plots.append(
            figure(
                image(data_uri(png), f"correlation and Bland-Altman plots of {name}"),
                f"{name.capitalize()} ({unit}): predicted against reference (left, dotted line = "
                "identity) and Bland-Altman (right: bias solid, 95 % limits dashed).",
                class_="wide",
            )
        )
    return section(
        "Agreement with the reference",
        join([element("p", intro, class_="muted"), stats, *plots, _segment_detection(paired)]),
        id_="agreement",
    )


def _segment_detection(paired: Sequence[SubjectReportData]) -> Html:
    pred, ref = [], []
    for p, r in (q for s in paired if (q := _both(s)) is not None):
        for seg in sorted(set(p.segments) & set(r.segments)):
            pred.append(p.segments[seg].scar_present)
            ref.append(r.segments[seg].scar_present)
    if not pred:
        return esc("")
    d = diagnostic_accuracy(pred, ref)
    row = [str(len(pred)), str(d.tp), str(d.fp), str(d.tn), str(d.fn)] + [
        fmt_ratio(v) for v in (d.sensitivity, d.specificity, d.ppv, d.npv, d.accuracy)
    ]
    return table(
        ["segments", "TP", "FP", "TN", "FN", "sensitivity", "specificity", "PPV", "NPV", "accuracy"],
        [row],
        caption="Scar detection per AHA segment (segments assessed in both)",
    )


def _metrics_section(subjects: Sequence[SubjectReportData]) -> Html:
    keys: list[str] = []
    for s in subjects:
        keys += [k for k in (s.imaging_metrics or {}) if k not in keys]
    if not keys:
        return esc("")
    rows = []
    for k in keys:
        summ = summarise([(s.imaging_metrics or {}).get(k) for s in subjects if s.imaging_metrics])
        rows.append(
            [
                metric_name(k),
                fmt_mean_sd(summ.mean, summ.sd),
                fmt_value(summ.median),
                str(summ.n),
                str(summ.n_undefined),
            ]
        )
    return section(
        "Imaging metrics", table(["metric", "mean (sd)", "median", "n", "not defined"], rows), id_="metrics"
    )


def _assessed_text(s: SubjectReportData) -> Html:
    q = s.predicted
    if q is None or not any(sl.quality is not None for sl in q.slices):
        return Html('<span class="undef">not checked</span>')
    return esc(f"{len(q.slices) - len(s.slices_not_assessed())} of {len(q.slices)}")


def _notes_section(subjects: Sequence[SubjectReportData]) -> Html:
    notes = list(dict.fromkeys(n for s in subjects for n in s.notes))
    flagged = sum(len(s.slices_not_assessed()) for s in subjects)
    total = sum(len(s.predicted.slices) for s in subjects if s.predicted is not None)
    if flagged:
        notes.append(f"{flagged} of {total} predicted slices were not assessed by the quality check (their "
                     "segmentation does not look like a left ventricle the model knows): their scar is not "
                     "reported and is left out of every scar number on this page; each subject page says "
                     "why.")
    if not notes:
        return esc("")
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return section("Notes", Html(f'<ul class="notes">{items}</ul>'), id_="notes")


def _subject_table(subjects: Sequence[SubjectReportData], links: dict[str, str]) -> Html:
    metric_keys = [k for k in SUBJECT_TABLE_METRICS if any(k in (s.imaging_metrics or {}) for s in subjects)]
    headers = [
        "#",
        "subject",
        "slices",
        "slices assessed for scar",
        "scar volume (pred)",
        "scar volume (ref)",
        "scar ratio (pred)",
        "scar ratio (ref)",
        "|scar ratio error|",
        *[metric_name(k) for k in metric_keys],
    ]
    rows = []
    for rank, s in enumerate(worst_first(subjects), start=1):
        name = esc(s.subject_id)
        if s.subject_id in links:
            name = Html(f'<a href="{esc(_relative_href(links[s.subject_id]))}">{name}</a>')
        p, r = s.predicted, s.reference
        no_ref = Html('<span class="undef">no reference</span>')
        row: list[object] = [
            str(rank),
            name,
            str(len(s.slices)),
            _assessed_text(s),
            fmt_fixed(p.subject.scar_volume_ml, 2, "ml") if p else NOT_DEFINED,
            fmt_fixed(r.subject.scar_volume_ml, 2, "ml") if r else no_ref,
            fmt_ratio(p.subject.scar_ratio) if p else NOT_DEFINED,
            fmt_ratio(r.subject.scar_ratio) if r else no_ref,
            fmt_fixed(scar_ratio_error(s), 1, "pp") if has_reference(s) else no_ref,
        ]
        row += [fmt_value((s.imaging_metrics or {}).get(k)) for k in metric_keys]
        rows.append(row)
    note = element(
        "p",
        "Worst first: largest absolute scar-ratio error (percentage points), then lowest scar "
        "Dice; subjects without a reference last.",
        class_="muted",
    )
    return section("Subjects", join([note, table(headers, rows, class_="subjects")]), id_="subjects")


def cohort_page(
    subjects: Sequence[SubjectReportData],
    *,
    subject_links: dict[str, str] | None = None,
    title: str | None = None,
) -> str:
    """The cohort report as an HTML document (text)."""
    links = dict(subject_links or {})
    for href in links.values():
        _relative_href(href)  # refuse absolute links before drawing anything
    title = title or "pscgan cohort report"
    n_without = sum(not has_reference(s) for s in subjects)
    header = Html(
        f'<header class="top"><h1><span class="kind">{esc(title)}</span>'
        f"Cohort of {len(subjects)} subjects</h1>"
        f'<p class="muted">{len(subjects) - n_without} with reference labels, {n_without} without</p>'
        "</header>"
    )
    banner = Html('<p class="banner">Research tool, not for clinical decisions.</p>')
    body = join(
        [
            header,
            banner,
            _notes_section(subjects),
            _agreement_section(subjects, n_without),
            _metrics_section(subjects),
            _subject_table(subjects, links),
        ]
    )
    return page(title, body)


def write_cohort_report(
    subjects: list[SubjectReportData],
    path: str | Path,
    *,
    subject_links: dict[str, str] | None = None,
    title: str | None = None,
) -> Path:
    """Write the cohort report to ``path`` (atomically) and return the path.

    Args:
        subjects: the subjects (only their quantifications and imaging metrics are used).
        path: the HTML file to write.
        subject_links: ``subject_id -> relative link`` to each subject's report (e.g. ``"S01/report.html"``).
        title: page title (default ``"pscgan cohort report"``).

    Raises:
        ValueError: if a link is not a relative path.
    """
    path = Path(path)
    write_text_atomic(path, cohort_page(subjects, subject_links=subject_links, title=title))
    return path
