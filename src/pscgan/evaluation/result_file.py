"""An ``evaluation.json`` read back, field by field: the numbers a cross-validation or an experiment sums.

``pscgan cv`` averages every Table 1 / Table 2 quantity over the finished folds from each fold's
``evaluation.json`` (:func:`pscgan.experiments.metrics.flatten_evaluation`), and an experiment's run
record takes its metrics from it. A file edited by hand or damaged (a Dice that is text, an ``sd`` below
zero, a Pearson r of 7, a summary that is a number) would end in a traceback inside the statistics or in
a summary that says something no fold measured. :func:`read_evaluation` checks every field those readers
take, without coercion and within its range, and a bad one is one :class:`~pscgan.errors.InputError`
naming the file and the field; fields they do not read (and fields a newer pscgan adds) are not checked.

Example:
    >>> from pydantic import ValidationError
    >>> from pscgan.io.jsonfile import validation_problem
    >>> try:
    ...     ShareSummary.model_validate({"mean": 1.5, "sd": 0.1, "median": 1.0, "n": 3, "n_undefined": 0})
    ... except ValidationError as exc:
    ...     print(validation_problem(exc))
    field (top level): Value error, mean 1.5 is outside [0, 1]
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pscgan.errors import InputError

#: Rounding slack of a mean or median at the edge of its range (a mean of SSIMs of 1.0 may be 1 + 1e-16).
_SLACK = 1e-6
_COUNT = Annotated[int, Field(ge=0, le=10**9)]
_SHARE = Annotated[float, Field(ge=0.0, le=1.0 + _SLACK)]
_R = Annotated[float, Field(ge=-1.0 - _SLACK, le=1.0 + _SLACK)]
_DIFFERENCE = Annotated[float, Field(ge=-1e9, le=1e9)]  # a bias or a limit of agreement (cm2, ml, ratio)


class _Strict(BaseModel):
    # strict: no "0.5" -> 0.5 or 1 -> True; keys this reader does not take are not checked
    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="ignore")


class ShareSummary(_Strict):
    """A :class:`pscgan.evaluation.summary.Summary` of a value within ``[LOW, HIGH]`` (a share: Dice,
    accuracy, sensitivity, specificity); subclasses set other ranges."""

    LOW: ClassVar[float] = 0.0
    HIGH: ClassVar[float] = 1.0

    mean: float | None
    sd: float | None = Field(ge=0.0, le=1e9)
    median: float | None
    n: _COUNT
    n_undefined: _COUNT

    @model_validator(mode="after")
    def _within(self) -> ShareSummary:
        for name in ("mean", "median"):
            value = getattr(self, name)
            if value is not None and not self.LOW - _SLACK <= value <= self.HIGH + _SLACK:
                raise ValueError(f"{name} {value!r} is outside [{self.LOW:g}, {self.HIGH:g}]")
        if (self.mean is None) != (self.n == 0):
            raise ValueError(f"mean {self.mean!r} does not fit n {self.n} (a mean of no value is null)")
        return self


class SignedShareSummary(ShareSummary):
    """A summary of SSIM values, within ``[-1, 1]``."""

    LOW: ClassVar[float] = -1.0


class LengthSummary(ShareSummary):
    """A summary of distances in mm (HD95), within ``[0, 1e5]``."""

    HIGH: ClassVar[float] = 1e5


class DecibelSummary(ShareSummary):
    """A summary of PSNR values in dB, within ``[-1000, 1000]``."""

    LOW: ClassVar[float] = -1e3
    HIGH: ClassVar[float] = 1e3


class RatioSummary(ShareSummary):
    """A summary of NRMSE values, within ``[0, 1e6]``."""

    HIGH: ClassVar[float] = 1e6


class ClassMetrics(_Strict):
    """Table 1's segmentation metrics of one class (or overall)."""

    accuracy: ShareSummary
    sensitivity: ShareSummary
    specificity: ShareSummary
    dice: ShareSummary
    hd95_mm: LengthSummary


class PerClass(_Strict):
    """The classes a cross-validation reads (``None``: not defined for the reference or the method)."""

    lv_blood_pool: ClassMetrics | None
    healthy_myocardium: ClassMetrics | None
    scar: ClassMetrics | None


class Segmentation(_Strict):
    per_class: PerClass
    overall: ClassMetrics | None


class Synthesis(_Strict):
    ssim: SignedShareSummary
    psnr_db: DecibelSummary
    nrmse: RatioSummary


class Imaging(_Strict):
    segmentation: Segmentation | None
    synthesis: Synthesis | None


class Pearson(_Strict):
    r: _R | None
    p_value: _SHARE | None
    n: _COUNT
    n_excluded: _COUNT


class BlandAltman(_Strict):
    bias: _DIFFERENCE | None
    sd: Annotated[float, Field(ge=0.0, le=1e9)] | None
    lower: _DIFFERENCE | None
    upper: _DIFFERENCE | None
    n: _COUNT
    n_excluded: _COUNT


class Agreement(_Strict):
    """A Table 2 agreement (scar size per slice, scar volume, scar ratio)."""

    pearson: Pearson
    bland_altman: BlandAltman


class Diagnostic(_Strict):
    """A Table 2 diagnostic accuracy (segment localisation, transmurality)."""

    tp: _COUNT
    fp: _COUNT
    tn: _COUNT
    fn: _COUNT
    sensitivity: _SHARE | None
    specificity: _SHARE | None
    ppv: _SHARE | None
    npv: _SHARE | None
    auc: _SHARE | None


class Clinical(_Strict):
    """Table 2 (each ``None`` where not defined; ``evaluate`` writes every key)."""

    scar_size_slice_cm2: Agreement | None
    scar_volume_ml: Agreement | None
    scar_ratio: Agreement | None
    segment_localisation: Diagnostic | None
    transmurality: Diagnostic | None


class SubjectRow(_Strict):
    subject: str = Field(max_length=1000)
    scar_ratio_abs_error: _SHARE | None = None  # absent: not defined for the subject


class EvaluationFile(_Strict):
    """What the cross-validation and the experiments read of an ``evaluation.json``."""

    n_subjects: _COUNT
    imaging: Imaging
    clinical: Clinical
    per_subject: list[SubjectRow] = Field(max_length=1_000_000)


def read_evaluation(path: Path, *, redo: str) -> dict[str, Any]:
    """The ``evaluation.json`` at ``path``, checked field by field (:class:`EvaluationFile`).

    Args:
        redo: what to do to evaluate again (ends an error message).

    Raises:
        InputError: naming ``path``, the field and the problem, then ``redo``.
    """
    from pscgan.io.jsonfile import non_finite, read_json, validation_problem

    try:
        data = read_json(path, expect=dict, what="evaluation")
    except InputError as exc:
        raise InputError(path, f"{exc.problem}; {redo}") from None
    bad = non_finite(data)
    if bad is not None:
        raise InputError(path, f"{bad}; {redo}")
    try:
        EvaluationFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(path, f"{validation_problem(exc)}; {redo}") from None
    return data
