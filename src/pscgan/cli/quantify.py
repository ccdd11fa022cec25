"""``pscgan quantify``: clinical metrics of any label map, no model involved."""

from __future__ import annotations

from pathlib import Path

import typer

from pscgan.cli._common import handle_errors, output_file, quantify_json
from pscgan.labels import LabelEncoding
from pscgan.ui import console


def _fmt(x: float | None, fmt: str = ".2f", scale: float = 1.0) -> str:
    return "not defined" if x is None else f"{x * scale:{fmt}}"


@handle_errors
def quantify(
    labels: Path = typer.Argument(..., help="Label map (NIfTI, x, y, slice)."),
    encoding: LabelEncoding = typer.Option(LabelEncoding.PSCGAN, "--labels",
                                           help="Label encoding of the file (emidec: 0-4 with no-reflow)."),
    subject_json: Path | None = typer.Option(None, "--subject-json",
                                             help="subject.json giving slice levels, RV insertion angles and "
                                                  "slice thickness (otherwise inferred/assumed)."),
    json_out: Path | None = typer.Option(None, "--json", help="Write every value to this JSON file."),
    threshold: float = typer.Option(0.05, "--threshold", min=0.0, max=1.0,
                                    help="Segment scar fraction above which a segment counts as scarred."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --json file."),
) -> None:
    """Scar size, scar ratio, AHA segment localisation and transmurality of a label map."""
    from rich.table import Table

    from pscgan.clinical.quantify import quantify_labels
    from pscgan.data.layout import read_subject_info
    from pscgan.errors import InputError, OutputExistsError
    from pscgan.io.atomic import write_json_atomic
    from pscgan.io.nifti import read_nifti
    from pscgan.labels import to_pscgan

    if json_out is not None:
        output_file(json_out, [labels, subject_json], ours=quantify_json)
    if json_out is not None and json_out.exists() and not overwrite:
        raise OutputExistsError(json_out, "exists; pass --overwrite to replace it")
    vol = read_nifti(labels, ndim=(2, 3), dtype=None)
    try:
        lab = to_pscgan(vol.array, encoding)
    except ValueError as exc:
        raise InputError(labels, f"{exc} (is --labels {encoding.value} the right encoding?)") from None
    levels = angles = thickness = None
    if subject_json is not None:
        info = read_subject_info(subject_json.parent) if subject_json.name == "subject.json" else None
        if info is None:
            raise InputError(subject_json, "expected a file named subject.json")
        n = lab.shape[2] if lab.ndim == 3 else 1
        if len(info.slices) != n or info.slices[-1].index >= n:
            raise InputError(subject_json, f"describes slices {[s.index for s in info.slices]} but "
                                           f"{labels.name} has {n} (0 to {n - 1})")
        levels, angles = info.slice_metadata(n)  # by slice index, as predict reads them
        thickness = info.slice_thickness_mm
    q = quantify_labels(lab, vol.spacing, levels=levels, rv_angles_deg=angles, slice_thickness_mm=thickness,
                        threshold=threshold)
    out = console()
    s = q.subject
    summary = Table("metric", "value", title=f"{labels.name}: subject")
    summary.add_row("scar volume (ml)", _fmt(s.scar_volume_ml))
    summary.add_row("myocardial volume (ml)", _fmt(s.myocardium_volume_ml))
    summary.add_row("scar ratio (%)", _fmt(s.scar_ratio, ".1f", 100))
    summary.add_row(
        "scarred segments", ", ".join(str(k) for k, v in q.segments.items() if v.scar_present) or "none"
    )
    out.print(summary)
    per_slice = Table(
        "slice", "level", "scar (cm²)", "myocardium (cm²)", "scar ratio (%)", "scarred segments"
    )
    for sl in q.slices:
        per_slice.add_row(
            str(sl.index),
            f"{sl.level or '-'} ({sl.level_source})",
            _fmt(sl.quantities.scar_area_cm2),
            _fmt(sl.quantities.myocardium_area_cm2),
            _fmt(sl.quantities.scar_ratio, ".1f", 100),
            ", ".join(str(g.segment) for g in sl.segments if g.scar_present) or "-",
        )
    out.print(per_slice)
    seg = Table(
        "segment", "name", "territory", "scar fraction (%)", "transmurality (%)", title="AHA segments"
    )
    for k, v in q.segments.items():
        seg.add_row(
            str(k), v.name, v.territory, _fmt(v.scar_fraction, ".0f", 100), _fmt(v.transmurality, ".0f", 100)
        )
    out.print(seg)
    for note in q.notes:
        out.print(f"[yellow]note:[/] {note}")
    if json_out is not None:
        write_json_atomic(json_out, {"file": labels.name, **q.as_dict()})
