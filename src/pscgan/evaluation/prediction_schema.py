"""What a prediction folder's JSON files must hold, field by field: strict types, finite and bounded numbers.

``pscgan evaluate`` and ``pscgan report`` sum, average and plot what a subject's ``clinical.json`` and
``records.json`` say, and replay the crop the records describe. A value of the wrong type, a NaN, a
number too large to sum (``1e308`` overflows to ``inf``, which JSON cannot hold) or an index past the
slices would end in a traceback deep inside the metrics, or in a silently wrong table. The schemas here
refuse each of them up front, without coercion (``"1.5"`` is not a number), and
:func:`~pscgan.io.jsonfile.validation_problem` turns pydantic's report into one line naming the field
(``slices[0].quantities.scar_area_cm2``).

Example:
    >>> from pydantic import ValidationError
    >>> from pscgan.io.jsonfile import validation_problem
    >>> try:
    ...     SegmentFile.model_validate({"segment": 18, "name": "x", "territory": "LAD", "scar_fraction": None,
    ...                                 "transmurality": None, "scar_present": False, "scar_area_mm2": 0.0,
    ...                                 "myocardium_area_mm2": 1.0})
    ... except ValidationError as exc:
    ...     print(validation_problem(exc))
    field segment: Input should be less than or equal to 17
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

_TEXT = Annotated[str, Field(max_length=10_000)]
_COUNT = Annotated[int, Field(ge=0, le=100_000)]
_SIZE = Annotated[float, Field(ge=0.0, le=1e9)]  # areas (cm2, mm2) and volumes (ml)
_SHARE = Annotated[float, Field(ge=0.0, le=1.0)]
_LENGTH_MM = Annotated[float, Field(ge=0.0, le=1e5)]


class _Strict(BaseModel):
    # strict: no "1.5" -> 1.5 or 1.0 -> True; extra keys are what a newer pscgan adds, not read here
    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="ignore")


class SegmentFile(_Strict):
    """An AHA segment of a slice or a subject (:class:`pscgan.clinical.quantify.SegmentResult`)."""

    segment: int = Field(ge=1, le=17)
    name: _TEXT
    territory: _TEXT
    scar_fraction: _SHARE | None
    transmurality: _SHARE | None
    scar_present: bool
    scar_area_mm2: _SIZE
    myocardium_area_mm2: _SIZE


class QualityFile(_Strict):
    """A slice's quality check (:class:`pscgan.clinical.quality.SliceQuality`)."""

    assessed: bool
    flags: list[_TEXT] = Field(default_factory=list, max_length=100)
    reasons: list[_TEXT] = Field(default_factory=list, max_length=100)
    localisation_confidence: _SHARE | None = None
    detector_size_mm: _LENGTH_MM | None = None
    lv_diameter_mm: _LENGTH_MM | None = None
    wall_thickness_mm: _LENGTH_MM | None = None
    blood_pool_pieces: _COUNT = 0
    myocardium_pieces: _COUNT = 0
    blood_pool_enclosed: _SHARE | None = None


class SliceQuantitiesFile(_Strict):
    """Sizes of one slice; ``None`` where a part is not defined (scar not assessed, a scar-only model)."""

    scar_area_cm2: _SIZE | None
    myocardium_area_cm2: _SIZE | None
    healthy_myocardium_area_cm2: _SIZE | None
    blood_pool_area_cm2: _SIZE | None
    scar_ratio: _SHARE | None


class SliceFile(_Strict):
    """One slice's results (:class:`pscgan.clinical.quantify.SliceResult`)."""

    index: _COUNT
    level: Annotated[str, Field(max_length=100)] | None
    level_source: Annotated[str, Field(max_length=100)]
    rv_insertion_angle_deg: float = Field(ge=-3600.0, le=3600.0)
    rv_angle_source: Annotated[str, Field(max_length=100)]
    quantities: SliceQuantitiesFile
    segments: list[SegmentFile] = Field(max_length=17)
    quality: QualityFile | None = None


class SubjectFile(_Strict):
    """The subject's sizes (:class:`pscgan.clinical.quantities.StackQuantities`)."""

    scar_volume_ml: _SIZE | None
    myocardium_volume_ml: _SIZE | None
    blood_pool_volume_ml: _SIZE | None
    scar_ratio: _SHARE | None
    n_slices: _COUNT
    n_slices_with_myocardium: _COUNT | None
    n_slices_assessed: _COUNT | None = None


class EndDiastoleFile(_Strict):
    """Which input phase a prediction read as end-diastole
    (:func:`pscgan.inference.predictor.end_diastole_record`)."""

    phase: _COUNT
    phases: int = Field(ge=1, le=100_000)
    source: _TEXT = Field(alias="from")

    @model_validator(mode="after")
    def _phase_among_phases(self) -> EndDiastoleFile:
        if self.phase >= self.phases:
            raise ValueError(f"phase {self.phase} is not one of the {self.phases} phases")
        return self


class ClinicalFile(_Strict):
    """A predicted subject's ``clinical.json`` (:meth:`pscgan.clinical.quantify.Quantification.as_dict`
    plus the subject's name and input)."""

    subject: SubjectFile
    slices: list[SliceFile] = Field(max_length=100_000)
    segments: dict[Annotated[str, Field(pattern=r"^(1[0-7]|[1-9])$")], SegmentFile]
    spacing_mm: list[Annotated[float, Field(gt=0.0, le=1e3)]] = Field(min_length=3, max_length=3)
    scar_fraction_threshold: _SHARE
    notes: list[_TEXT] = Field(default_factory=list, max_length=1000)
    end_diastole: EndDiastoleFile | None = None  # absent from a prediction of an earlier pscgan
