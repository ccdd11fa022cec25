"""Validate a phantom dataset from the generated data itself (spec section 6).

:func:`validate_dataset` loads every subject of a dataset in the canonical layout, measures per slice
(:mod:`~pscgan.phantom.validation_measure`) the function (blood-pool area change, segmental wall
thickening), contrast (cine and LGE tissue ratios) and scar (area, transmurality, AHA localisation),
summarises the cohort beside the phantom specification's ranges (:mod:`~pscgan.phantom.validation_cohort`),
optionally compares the LGE intensity distributions with real cases (:mod:`~pscgan.phantom.validation_lge`),
and writes ``validation.json`` (every number with its range and pass/fail), ``validation.md`` (tables),
``cases.png``, ``thickening.png`` and ``lge_histograms.png``. A value outside its range is reported as a
failed check; nothing is hidden and nothing raises because of it.

Example:
    >>> from pathlib import Path
    >>> report = validate_dataset(Path("phantom"))            # doctest: +SKIP
    >>> [c.key for c in report.checks if c.status.value == "fail"]  # doctest: +SKIP
    []
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pscgan.data.layout import list_subject_folders, load_subject
from pscgan.errors import InputError
from pscgan.io.atomic import prepare_output_dir, write_json_atomic
from pscgan.phantom.validation_checks import Check, Status
from pscgan.phantom.validation_cohort import THICKENING_GROUPS, cohort_checks, thickening_table
from pscgan.phantom.validation_lge import (
    Samples,
    compare_lge,
    merge_samples,
    reference_samples,
    volume_samples,
)
from pscgan.phantom.validation_measure import SliceMeasurement, measure_subject
from pscgan.phantom.validation_report import write_markdown

NOTES = (
    "Fractional area change (FAC) is the blood-pool area change of one slice between ED and the phase of "
    "smallest blood pool; it is not the volumetric ejection fraction (no long-axis shortening, no "
    "base-to-apex integration). Its expected ranges are derived from the spec's end-systolic radius model.",
    "Thickening uses the per-phase cine labels: wall (healthy myocardium + scar) thickness along radial rays "
    "at ED and at the measured ES phase, per AHA segment; groups by the recorded truth transmurality.",
    "LGE ratios use the LGE-grid labels, which follow the cine ED geometry; the LGE itself is misregistered "
    "by design (spec 4), so a thin scar's median mixes in neighbouring tissue.",
    "Intensity ratios are medians over tissue interiors (pixels whose 8 neighbours share the tissue group); "
    "cine ratios are corrected for coil shading by a plane fitted to the healthy myocardium.",
    "'(images)' ratios are measured on the written images with the label maps; '(recorded signals)' ratios "
    "are those of the noise-free tissue signals the generator records, which the spec's signal-model "
    "ranges describe.",
)


@dataclass
class ValidationReport:
    """Everything :func:`validate_dataset` measured and wrote."""

    dataset: Path
    out: Path
    checks: list[Check]
    measurements: list[SliceMeasurement]
    thickening: list[dict]
    lge_comparison: dict | None
    files: list[Path] = field(default_factory=list)

    @property
    def failures(self) -> list[Check]:
        """Checks whose measured value lies outside the expected range."""
        return [c for c in self.checks if c.status is Status.FAIL]

    def to_json(self) -> dict[str, Any]:
        subjects = {m.subject_id: m.normal for m in self.measurements}
        return _clean({
            "dataset": str(self.dataset),
            "n_subjects": len(subjects), "n_normal_subjects": sum(bool(v) for v in subjects.values()),
            "n_slices": len(self.measurements),
            "n_checks": len(self.checks), "n_failed": len(self.failures),
            "checks": [c.to_json() for c in self.checks],
            "thickening_groups": thickening_summary(self.thickening),
            "lge_comparison": self.lge_comparison,
            "notes": list(NOTES),
            "slices": [m.to_json() for m in self.measurements],
        })


def _clean(obj: Any) -> Any:
    """JSON has no NaN: replace non-finite floats by None, recursively."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def thickening_summary(rows: list[dict]) -> dict[str, dict[str, float | int]]:
    """Per thickening group: number of segments, median and quartiles of the thickening."""
    out = {}
    for g in THICKENING_GROUPS:
        v = np.array([r["thickening"] for r in rows if r["group"] == g])
        if v.size:
            q1, med, q3 = np.percentile(v, [25, 50, 75])
            out[g] = {"n": int(v.size), "median": float(med), "q1": float(q1), "q3": float(q3)}
    return out


def _pick_cases(ms: list[SliceMeasurement], n_ihd: int = 3, n_normal: int = 1) -> list[tuple[str, int, int]]:
    """Slices for ``cases.png``: the largest scars of distinct IHD subjects, then normal subjects' slices."""
    picked: list[tuple[str, int, int]] = []
    for normal, n in ((False, n_ihd), (True, n_normal)):
        pool = sorted((m for m in ms if bool(m.normal) is normal),
                      key=lambda m: (-m.scar_area_mm2, m.level != "mid", m.subject_id))
        seen: set[str] = set()
        for m in pool:
            if len(seen) < n and m.subject_id not in seen:
                seen.add(m.subject_id)
                picked.append((m.subject_id, m.slice_index, m.es_phase if m.es_phase is not None else 0))
    return picked


def validate_dataset(data: str | Path, out: str | Path | None = None, reference: str | Path | None = None,
                     overwrite: bool = False, *,
                     progress: Callable[[int, int], None] | None = None) -> ValidationReport:
    """Measure a phantom dataset and write the validation report.

    Args:
        data: dataset folder in the canonical layout (``subject.json`` with ``phantom`` truth for the
            consistency checks; ``cine_labels.nii.gz`` for the function checks).
        out: output folder; default ``DATA/validation``. Refused if it holds data, unless ``overwrite``.
        reference: optional folder of real LGE cases (``CASE/lge.nii.gz`` + ``CASE/labels.nii.gz``, EMIDEC
            label encoding) for the LGE histogram comparison.
        overwrite: replace the content of an existing output folder.
        progress: called with ``(subjects done, total)`` after each subject.

    Returns:
        The :class:`ValidationReport`.

    Raises:
        InputError: unreadable dataset or reference; OutputExistsError: ``out`` holds data.
    """
    data = Path(data)
    folders = list_subject_folders(data)
    ref = reference_samples(reference) if reference is not None else None
    out_dir = prepare_output_dir(Path(out) if out is not None else data / "validation", overwrite=overwrite)

    measurements: list[SliceMeasurement] = []
    lge_parts: list[Samples] = []
    for i, folder in enumerate(folders):
        subject = load_subject(folder, require_lge=True, require_labels=True)
        assert subject.lge is not None and subject.labels is not None  # required above
        measurements.extend(measure_subject(subject))
        lge_parts.append(volume_samples(subject.lge.array, subject.labels.array))
        if progress is not None:
            progress(i + 1, len(folders))
    if not measurements:
        raise InputError(data, "no slices to validate")
    phantom_lge = merge_samples(lge_parts)
    rows = thickening_table(measurements)
    comparison = compare_lge(phantom_lge, ref) if ref is not None else None
    checks = cohort_checks(measurements) + (_reference_checks(comparison) if comparison else [])
    report = ValidationReport(data, out_dir, checks, measurements, rows, comparison)

    from pscgan.phantom.validation_figures import plot_cases, plot_lge_histograms, plot_thickening

    by_id = {f.name: f for f in folders}
    cases = [(load_subject(by_id[sid], require_lge=True, require_labels=True), k, es)
             for sid, k, es in _pick_cases(measurements)]
    plot_cases(cases, out_dir / "cases.png")
    plot_thickening(rows, out_dir / "thickening.png")
    plot_lge_histograms(phantom_lge, ref, out_dir / "lge_histograms.png")
    write_json_atomic(out_dir / "validation.json", report.to_json())
    write_markdown(report, out_dir / "validation.md")
    report.files = [out_dir / n for n in ("validation.json", "validation.md", "cases.png", "thickening.png",
                                          "lge_histograms.png")]
    return report


def _reference_checks(comparison: dict) -> list[Check]:
    """Informative checks of the LGE comparison (no spec range: a distance to two real cases)."""
    checks = []
    for name, t in comparison["tissues"].items():
        scale = t["wasserstein_between_reference_cases"]
        note = f"between reference cases: {scale:.3g}" if scale is not None else ""
        checks.append(Check(f"lge_wasserstein_{name}", "reference",
                            f"LGE {name}: 1-Wasserstein phantom vs reference (normalised)",
                            t["wasserstein_phantom_vs_reference"], n=t["phantom_pixels"], note=note))
        ref_med = t["reference_median"]
        checks.append(Check(f"lge_median_{name}", "reference",
                            f"LGE {name} median, phantom (myocardium 0, blood 1)",
                            t["phantom_median"], n=t["phantom_pixels"],
                            note=f"reference: {ref_med:.3g}" if ref_med is not None else "not in reference"))
    return checks
