"""A run's records, read as the hostile input they may be: ``done.json`` of a finished run, and
``adopted.json`` of a run whose training was adopted (``pscgan experiment --reuse-from``).

An experiment folder is continued by repeating its command, and its tables are rebuilt from every run's
``done.json``: seeds, metrics averaged over seeds and per-subject metrics tested in pairs. A record edited
by hand or damaged (an array, a NaN, a metric that is text, a subject whose metrics are a number) would
end in a traceback inside the statistics, or in a table that says something no run measured. The record
is checked field by field here, without coercion, and a bad one is one
:class:`~pscgan.errors.InputError` naming the file and the field.

Example:
    >>> check_done_record(Path("done.json"), {"seed": 0, "metrics": {"dice_scar": "0.5"}, "subjects": {}})
    Traceback (most recent call last):
    ...
    pscgan.errors.InputError: done.json: field metrics.dice_scar: Input should be a valid number; ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pscgan.errors import InputError

_NAME = Annotated[str, Field(max_length=1000)]
_METRICS = dict[_NAME, float | None]


class DoneRecord(BaseModel):
    """What :func:`pscgan.experiments.run.execute_run` writes (fields a newer pscgan adds are kept)."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="allow")

    seed: int = Field(ge=0, le=2**63 - 1)
    baseline: _NAME | None = None
    steps_per_phase: int | None = Field(default=None, ge=0)
    steps_trained: int | None = Field(default=None, ge=0)
    training_seconds: float | None = Field(default=None, ge=0.0)
    seconds_per_step: float | None = Field(default=None, ge=0.0)
    test_subjects: list[_NAME] = Field(default_factory=list)
    metrics: _METRICS
    subjects: dict[_NAME, _METRICS]
    reused_from: _NAME | None = None


def check_done_record(path: Path, record: Any) -> dict[str, Any]:
    """``record`` (the parsed ``done.json`` at ``path``) if it is a run record with finite numbers.

    Raises:
        InputError: naming ``path``, the field and the problem.
    """
    from pscgan.io.jsonfile import non_finite, validation_problem

    bad = non_finite(record)
    if bad is not None:
        raise InputError(path, bad)
    try:
        DoneRecord.model_validate(record)
    except ValidationError as exc:
        problem = validation_problem(exc)
        raise InputError(path, f"{problem}; delete this file to run the run's evaluation again") from None
    return record


#: Longest path an adoption record may name (Linux's PATH_MAX).
_MAX_PATH = 4096


def check_adoption_record(path: Path, record: Any) -> str:
    """The run folder the parsed ``adopted.json`` at ``path`` names (``reused_from``): the absolute path
    :func:`pscgan.experiments.reuse.adopt_run` wrote, which the run's ``done.json`` and table repeat.

    Raises:
        InputError: naming ``path`` and the field.
    """
    origin = record.get("reused_from") if isinstance(record, dict) else None
    problem = None
    if not isinstance(origin, str):
        problem = f"must name the run folder this run was copied from, not {type(origin).__name__}"
    elif not origin.startswith("/") or len(origin) > _MAX_PATH:
        problem = f"must be the absolute path (at most {_MAX_PATH} characters) of the run folder copied"
    elif any(ord(c) < 32 or ord(c) == 127 for c in origin):
        problem = "holds a control character; no folder pscgan copied is named so"
    if problem is not None:
        raise InputError(path, f"field reused_from: {problem}; delete the run's folder to train it again")
    assert isinstance(origin, str)
    return origin
