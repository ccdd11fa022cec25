"""The report of one subject: one self-contained HTML file.

Sections: headline numbers, the clinical and imaging metrics, the quality check (slices not assessed for
scar, and why), the AHA bull's-eye of scar transmurality (predicted and reference), every slice (cine
player, synthetic vs acquired LGE in one grey window, segmentation overlays), the per-slice table and
the notes of the quantification.

A slice the quality check (:mod:`pscgan.clinical.quality`) did not assess reads "not assessed" wherever
its scar would be shown, with the reason; the subject's scar numbers say over how many slices they are.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> cine = np.random.default_rng(0).random((4, 32, 32))
    >>> view = SliceView(0, "mid", (1.5, 1.5), cine, None, None, None, None)
    >>> data = SubjectReportData("S01", [view], predicted=None, reference=None)
    >>> out = write_subject_report(data, pathlib.Path(tempfile.mkdtemp()) / "s.html")
    >>> "S01" in out.read_text()
    True
"""

from __future__ import annotations

from pathlib import Path

from pscgan.clinical.quantify import Quantification, SliceResult
from pscgan.geometry.aha import SEGMENT_NAMES
from pscgan.io.atomic import write_text_atomic
from pscgan.report.animation import cine_player_html, player_script
from pscgan.report.bullseye import BullseyePanel, bullseye_png
from pscgan.report.data import SliceView, SubjectReportData
from pscgan.report.formatting import NOT_ASSESSED, fmt_diff, fmt_fixed, fmt_ratio, fmt_value, metric_name
from pscgan.report.html import (
    Html,
    definition_list,
    element,
    esc,
    figure,
    image,
    join,
    legend,
    page,
    section,
    table,
)
from pscgan.report.panels import data_uri, grey_panel, grey_window, overlay_panel


def scarred_segments(q: Quantification | None) -> list[int]:
    """AHA segments with scar present, in order."""
    return [] if q is None else sorted(s for s, r in q.segments.items() if r.scar_present)


def _segments_text(q: Quantification | None) -> Html:
    if q is None:
        return esc("")
    if not q.segments:
        return Html('<span class="undef">not assessed</span>')
    segs = scarred_segments(q)
    return esc(f"{len(segs)} of {len(q.segments)}" + (f" ({', '.join(map(str, segs))})" if segs else ""))


def _columns(data: SubjectReportData) -> list[tuple[str, Quantification]]:
    return [
        (name, q)
        for name, q in (("predicted", data.predicted), ("reference", data.reference))
        if q is not None
    ]


def _headline(data: SubjectReportData) -> Html:
    pred, ref = data.predicted, data.reference
    main = pred or ref
    if main is None:
        return esc("")
    who = "predicted" if pred is not None else "reference"

    def card(label: str, value: Html, ref_value: Html | None) -> str:
        extra = f'<div class="ref">reference {ref_value}</div>' if ref_value is not None else ""
        return (
            f'<div class="card"><div class="label">{esc(label)}</div>'
            f'<div class="value">{value}</div>{extra}</div>'
        )

    both = pred is not None and ref is not None
    cover = _coverage(main)
    who = who + (f", {cover}" if cover else "")
    cards = [
        card(
            f"scar volume ({who})",
            fmt_fixed(main.subject.scar_volume_ml, 2, "ml"),
            fmt_fixed(ref.subject.scar_volume_ml, 2, "ml") if both and ref is not None else None,
        ),
        card(
            f"scar ratio ({who})",
            fmt_ratio(main.subject.scar_ratio),
            fmt_ratio(ref.subject.scar_ratio) if both and ref is not None else None,
        ),
        card(f"scarred segments ({who})", _segments_text(main), _segments_text(ref) if both else None),
    ]
    return Html('<div class="cards">' + "".join(cards) + "</div>")


def _coverage(q: Quantification) -> str:
    """``"N of M slices"`` when the scar numbers cover only some slices (quality check), else ""."""
    n, assessed = q.subject.n_slices, q.subject.n_slices_assessed
    checked = any(s.quality is not None for s in q.slices)
    return f"{assessed} of {n} slices" if checked and assessed is not None and assessed < n else ""


def _clinical_table(data: SubjectReportData) -> Html:
    cols = _columns(data)
    if not cols:
        return Html('<p class="muted">No segmentation was given, so nothing was quantified.</p>')
    both = len(cols) == 2
    pred, ref = data.predicted, data.reference
    rows: list[list[object]] = []

    def row(name: str, values: list[Html], diff: Html | None) -> None:
        rows.append([name, *values, *([diff] if both else [])])

    row(
        "Scar volume",
        [fmt_fixed(q.subject.scar_volume_ml, 2, "ml") for _, q in cols],
        fmt_diff(pred.subject.scar_volume_ml, ref.subject.scar_volume_ml, 2, "ml")
        if pred is not None and ref is not None else None,
    )
    row(
        "Myocardial volume (healthy + scar)",
        [fmt_fixed(q.subject.myocardium_volume_ml, 1, "ml") for _, q in cols],
        fmt_diff(pred.subject.myocardium_volume_ml, ref.subject.myocardium_volume_ml, 1, "ml")
        if pred is not None and ref is not None else None,
    )
    row(
        "Scar ratio (scar / myocardium)",
        [fmt_ratio(q.subject.scar_ratio) for _, q in cols],
        fmt_diff(pred.subject.scar_ratio, ref.subject.scar_ratio, 1, "pp", scale=100.0)
        if pred is not None and ref is not None else None,
    )
    row("Scarred AHA segments", [_segments_text(q) for _, q in cols], None if not both else esc(""))
    row(
        "Slices whose scar is assessed",
        [esc(f"{q.subject.n_slices_assessed} of {q.subject.n_slices}")
         if q.subject.n_slices_assessed is not None else esc("") for _, q in cols],
        None if not both else esc(""),
    )
    row(
        "Slices with myocardium",
        [esc(f"{q.subject.n_slices_with_myocardium} of {q.subject.n_slices}") for _, q in cols],
        None if not both else esc(""),
    )
    headers = ["", *[name for name, _ in cols], *(["predicted - reference"] if both else [])]
    return table(headers, rows, caption="Clinical quantities")


def _quality_section(data: SubjectReportData) -> Html:
    q = data.predicted
    if q is None or not any(s.quality is not None for s in q.slices):
        return esc("")
    flagged = data.slices_not_assessed()
    if not flagged:
        text = Html(f'<p class="muted">All {len(q.slices)} slices passed the quality check (a closed '
                    "myocardial ring around the blood pool, plausible wall thickness and LV size, the LV "
                    "inside the crop).</p>")
        return section("Quality check", text, id_="quality")
    intro = element(
        "p",
        f"{len(flagged)} of {len(q.slices)} slices were not assessed: their predicted segmentation does not "
        "look like a left ventricle the model knows, so their scar is not reported and is left out of the "
        "subject's scar volume, scar ratio and AHA segments.",
    )
    rows = [[str(k + 1), esc(reason)] for k, reason in flagged]
    listing = table(["slice", "why not assessed"], rows, class_="quality")
    return section("Quality check", join([intro, listing]), id_="quality")


def _imaging_table(metrics: dict[str, float | None] | None) -> Html:
    if not metrics:
        return Html(
            '<p class="muted">No imaging metrics (they need reference labels and a reference LGE).</p>'
        )
    return table(
        ["metric", "value"],
        [[metric_name(k), fmt_value(v)] for k, v in metrics.items()],
        caption="Imaging metrics (predicted vs reference)",
    )


def _segment_table(data: SubjectReportData) -> Html:
    cols = _columns(data)
    headers = ["segment", "name"]
    for name, _ in cols:
        headers += [f"transmurality ({name})", f"scar fraction ({name})", f"scar ({name})"]
    rows = []
    for seg, seg_name in SEGMENT_NAMES.items():
        row: list[object] = [str(seg), seg_name]
        for _, q in cols:
            r = q.segments.get(seg)
            row += (
                [Html('<span class="undef">not imaged</span>')] * 3
                if r is None
                else [
                    fmt_ratio(r.transmurality, 0),
                    fmt_ratio(r.scar_fraction, 0),
                    "yes" if r.scar_present else "no",
                ]
            )
        rows.append(row)
    return table(headers, rows)


def _bullseye_section(data: SubjectReportData) -> Html:
    cols = _columns(data)
    if not cols or not any(q.segments for _, q in cols):
        return section(
            "Scar by AHA segment",
            Html(
                '<p class="muted">No AHA segment could be assessed '
                "(no slice with myocardium and a known level).</p>"
            ),
            id_="aha",
        )
    png = bullseye_png([BullseyePanel.from_quantification(name, q) for name, q in cols])
    threshold = cols[0][1].scar_fraction_threshold
    caption = Html(
        "AHA 16-segment bull's-eye seen from the apex: basal segments outside, apical inside, "
        "anterior at the top, septum on the left. "
        "Colour: mean scar transmurality (share of the wall thickness). "
        f'<span class="outline"></span> scar present (scar fraction above {100 * threshold:.0f} %); '
        "grey hatched: segment not covered by any slice."
    )
    details = Html(f"<details><summary>Segment table</summary>{_segment_table(data)}</details>")
    return section(
        "Scar by AHA segment",
        join(
            [
                figure(image(data_uri(png), "AHA bull's-eye of scar transmurality"), caption, class_="wide"),
                details,
            ]
        ),
        id_="aha",
    )


def _level_of(view: SliceView, data: SubjectReportData) -> str | None:
    """The slice's level as given, else as the quantification inferred it (marked so)."""
    if view.level:
        return view.level
    for q in (data.reference, data.predicted):
        for s in q.slices if q else []:
            if s.index == view.index and s.level:
                return f"{s.level}, {s.level_source}"
    return None


def _slice_html(view: SliceView, data: SubjectReportData) -> Html:
    subject_id, level = data.subject_id, _level_of(view, data)
    label = f"slice {view.index + 1}" + (f" ({level})" if level else "")
    h, w = view.shape
    fov = f"{h * view.spacing_mm[0]:.0f} x {w * view.spacing_mm[1]:.0f} mm"
    panels = [
        figure(
            Html(cine_player_html(view.cine, view.spacing_mm, label=f"{subject_id} {label}")),
            Html(f"<b>Cine</b> ({view.cine.shape[0]} frames, frame 1 = end-diastole)"),
        )
    ]
    lges = [im for im in (view.lge_synthetic, view.lge_reference) if im is not None]
    lge_window = grey_window(lges) if lges else (0.0, 1.0)  # (the window is used only with an LGE)
    if view.lge_synthetic is not None:
        panels.append(
            figure(
                image(
                    data_uri(grey_panel(view.lge_synthetic, lge_window, view.spacing_mm)),
                    f"{label}: synthetic LGE",
                ),
                Html("<b>Synthetic LGE</b> (predicted, no contrast)"),
            )
        )
    if view.lge_reference is not None:
        panels.append(
            figure(
                image(
                    data_uri(grey_panel(view.lge_reference, lge_window, view.spacing_mm)),
                    f"{label}: acquired LGE",
                ),
                Html("<b>Acquired LGE</b> (same grey window)"),
            )
        )
    # Both overlays share one background so the eye compares contours, not images.
    if view.lge_reference is not None:
        background, window, bg_name = view.lge_reference, lge_window, "acquired LGE"
    elif view.lge_synthetic is not None:
        background, window, bg_name = view.lge_synthetic, lge_window, "synthetic LGE"
    else:
        background, window, bg_name = view.cine[0], grey_window([view.cine]), "cine frame 1"
    for name, labels in (("Predicted", view.labels_predicted), ("Reference", view.labels_reference)):
        if labels is not None:
            panels.append(
                figure(
                    image(
                        data_uri(overlay_panel(background, window, labels, view.spacing_mm)),
                        f"{label}: {name.lower()} segmentation",
                    ),
                    Html(f"<b>{name} segmentation</b> on {esc(bg_name)}"),
                )
            )
    heading = element("h3", f"{label[0].upper()}{label[1:]}")
    flagged = dict(data.slices_not_assessed())
    badge = (
        Html(f'<p class="flag"><b>Not assessed for scar</b>: {esc(flagged[view.index])}</p>')
        if view.index in flagged
        else esc("")
    )
    return Html(
        f'<div class="slice">{heading}{badge}<div class="panels">{"".join(panels)}</div>'
        f'<p class="muted">Field of view {esc(fov)}.</p></div>'
    )


def _flagged(s: SliceResult | None) -> bool:
    return s is not None and s.quality is not None and not s.quality.assessed


def _slice_segments_text(s: SliceResult | None) -> Html:
    if s is None:
        return esc("")
    if not s.segments:
        return Html('<span class="undef">not assessed</span>')
    return esc(", ".join(str(g.segment) for g in s.segments if g.scar_present) or "none")


def _per_slice_table(data: SubjectReportData) -> Html:
    cols = _columns(data)
    if not cols:
        return esc("")
    by_index = {name: {s.index: s for s in q.slices} for name, q in cols}
    indices = sorted(set().union(*(d.keys() for d in by_index.values())))
    headers: list[str] = ["slice", "level"]
    for what in ("scar area", "myocardium area", "scar ratio", "scarred segments"):
        headers += [f"{what} ({name})" for name, _ in cols]
    checked = data.predicted is not None and any(s.quality is not None for s in data.predicted.slices)
    headers += ["quality check (predicted)"] if checked else []
    rows = []
    for k in indices:
        slices = [by_index[name].get(k) for name, _ in cols]
        level = next((s.level for s in slices if s is not None and s.level), None)
        row: list[object] = [str(k + 1), level or Html('<span class="undef">unknown</span>')]
        row += [NOT_ASSESSED if _flagged(s) else fmt_fixed(s.quantities.scar_area_cm2, 2, "cm²") if s else ""
                for s in slices]
        row += [fmt_fixed(s.quantities.myocardium_area_cm2, 2, "cm²") if s else "" for s in slices]
        row += [NOT_ASSESSED if _flagged(s) else fmt_ratio(s.quantities.scar_ratio) if s else ""
                for s in slices]
        row += [_slice_segments_text(s) for s in slices]
        if checked:
            pred = by_index.get("predicted", {}).get(k)
            row.append(esc(pred.quality.reason or "passed") if pred is not None and pred.quality else esc(""))
        rows.append(row)
    return section("Per-slice quantities", table(headers, rows), id_="slices-table")


def _notes(data: SubjectReportData) -> Html:
    notes: list[str] = list(dict.fromkeys(data.notes))
    for q in (data.predicted, data.reference):
        notes += [n for n in (q.notes if q else []) if n not in notes]
    if not notes:
        return esc("")
    return section(
        "Notes",
        Html('<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"),
        id_="notes",
    )


def subject_page(data: SubjectReportData, *, title: str | None = None) -> str:
    """The subject's report as an HTML document (text)."""
    kind = title or "pscgan subject report"
    title = title or f"pscgan report: {data.subject_id}"
    header = Html(
        f'<header class="top"><h1><span class="kind">{esc(kind)}</span>Subject {esc(data.subject_id)}'
        f"</h1>{definition_list(data.details)}</header>"
    )
    banner = Html(
        '<p class="banner">Research tool, not for clinical decisions: the synthetic LGE and the '
        "segmentation are predictions of a model trained on contrast-enhanced scans.</p>"
    )
    summary = section(
        "Summary",
        join(
            [
                _headline(data),
                Html('<div class="grid2">'),
                _clinical_table(data),
                _imaging_table(data.imaging_metrics),
                Html("</div>"),
            ]
        ),
        id_="summary",
    )
    summary = join([summary, _quality_section(data)])
    slices = (
        section("Slices", join([legend(), *(_slice_html(v, data) for v in data.slices)]), id_="images")
        if data.slices
        else esc("")
    )
    body = join(
        [header, banner, summary, _bullseye_section(data), slices, _per_slice_table(data), _notes(data)]
    )
    return page(title, body, script=player_script() if data.slices else None)


def write_subject_report(data: SubjectReportData, path: str | Path, *, title: str | None = None) -> Path:
    """Write the subject's report to ``path`` (atomically) and return the path.

    Args:
        data: images and quantification of the subject.
        path: the HTML file to write; its folder is created if needed.
        title: page title (default ``"pscgan report: <subject_id>"``).
    """
    path = Path(path)
    write_text_atomic(path, subject_page(data, title=title))
    return path
