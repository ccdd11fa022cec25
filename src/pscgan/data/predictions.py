"""The prediction folder's format: what ``pscgan predict`` writes, in one place.

Writers (:mod:`pscgan.inference.outputs`, :mod:`pscgan.baselines.outputs`) and readers (evaluation,
report) take the file names and the subject-folder rules from here, as the dataset's take theirs from
:mod:`pscgan.data.layout`.

::

    OUT/
      batch.json              the weights (file name, SHA-256, preset, LGE registration protocol) and the
                              preprocessing the predictor applied, written before any subject; its
                              ``version`` is :data:`pscgan.migrations.PREDICTION_RECORD`'s
      summary.json            inputs, failures, weights, preprocessing, versions; ``quality``: the slices the
                              quality check did not assess, each with its input file and reasons
      slices.csv              per slice: scar area, myocardium area, scar ratio, scarred segments, quality
      subjects.csv            per subject: scar volume, myocardial volume, scar ratio, scarred segments,
                              slices assessed
      SUBJECT/
        synthetic_lge.nii.gz  (x, y, slice) relative units [0, 1], original geometry
        segmentation.nii.gz   (x, y, slice) uint8: 0 other, 1 LV blood pool, 2 healthy myocardium, 3 scar
        clinical.json         clinical quantification of the predicted segmentation
        network.npz           network-grid crops: cine, synthetic LGE, segmentation, coarse mask
        records.json          preprocessing records (crop boxes, resampling) per slice
        outputs.json          optional outputs that could not be written, and why; notes on the input
        dicom/                DICOM derived MR + SEG, when the input was a DICOM series
        identifiers.json      patient and study identifiers of a DICOM input, only with --keep-identifiers

A subject folder appears only once complete (:func:`staged_subject`), so a killed batch never leaves a
half-written subject. Subject folders are named after the input file or folder (checked by
:func:`check_output_name`), never after DICOM tags.

Example:
    >>> check_output_name("subject_01")
    'subject_01'
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pscgan.errors import InputError
from pscgan.io.atomic import safe_child
from pscgan.migrations import PREDICTION_RECORD, migrate

LGE_FILE = "synthetic_lge.nii.gz"
SEG_FILE = "segmentation.nii.gz"
CLINICAL_FILE = "clinical.json"
NETWORK_FILE = "network.npz"
RECORDS_FILE = "records.json"
BATCH_FILE = "batch.json"
SUMMARY_FILE = "summary.json"
SUBJECTS_TABLE = "subjects.csv"
SLICES_TABLE = "slices.csv"
#: Files of a prediction folder that record its weights and preprocessing (:func:`read_prediction_record`),
#: most specific first: a baseline's prediction writes only ``summary.json``, once it is done.
WEIGHTS_RECORD_FILES = (BATCH_FILE, SUMMARY_FILE)
IDENTIFIERS_FILE = "identifiers.json"
OUTPUTS_FILE = "outputs.json"
DICOM_FOLDER = "dicom"


#: Longest subject name (UTF-8 bytes) used for output names: file systems allow 255 bytes per name and
#: the outputs add to it (``.NAME.partial`` while a subject is written, ``NAME.html`` in reports).
MAX_NAME_BYTES = 200


def check_output_name(name: str, source: str | Path | None = None) -> str:
    """Return ``name`` if it can name an output folder or file, else raise :class:`InputError`.

    Subject names come from input file and folder names (never from DICOM tags); they must stay inside
    the output folder and must not collide with its hidden temporaries, hence no separators, ``.``/``..``,
    leading dot or tilde, control characters, undecodable bytes, or more than :data:`MAX_NAME_BYTES`.

    Example:
        >>> check_output_name("subject_01")
        'subject_01'
    """
    problem = None
    if not name or name.startswith((".", "~")):
        problem = "is empty or starts with '.' or '~'"
    elif any(c in name for c in "/\\") or any(ord(c) < 32 or ord(c) == 127 for c in name):
        problem = "holds a path separator or a control character"
    else:
        try:
            size = len(name.encode("utf-8"))
        except UnicodeEncodeError:
            problem = "holds bytes that are not UTF-8"
        else:
            if size > MAX_NAME_BYTES:
                problem = f"is longer than {MAX_NAME_BYTES} bytes"
    if problem is not None:
        shown = name if len(name) <= 60 else f"{name[:57]}..."
        raise InputError(source, f"subject name {shown!r} {problem}; it names the output folder, rename the "
                                 "input")
    return name


def subject_folder(out: Path, name: str) -> Path:
    """``OUT/name``, refused (:class:`InputError`) when ``name`` could write outside ``OUT``."""
    check_output_name(name)
    try:
        return safe_child(out, name)
    except ValueError as exc:  # e.g. OUT/name is a symbolic link leading elsewhere
        raise InputError(out / name, str(exc)) from None


@contextmanager
def staged_subject(out: Path, name: str) -> Iterator[Path]:
    """Write a subject's results into a hidden ``OUT/.name.partial`` folder that becomes ``OUT/name``
    only when the block completes; on any error (or a kill) no ``OUT/name`` is half-written.

    Yields the staging folder. The name is checked with :func:`subject_folder` first.
    """
    final = subject_folder(out, name)
    tmp = out / f".{name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def subject_done(out: Path, name: str) -> bool:
    """Whether ``OUT/name`` holds a complete subject result (never for a name no subject may have)."""
    try:
        folder = subject_folder(out, name)
    except InputError:
        return False
    return (folder / CLINICAL_FILE).is_file() and (folder / SEG_FILE).is_file()


def read_prediction_record(pred_dir: Path, *, unreadable: str) -> tuple[Path, dict[str, Any]] | None:
    """The first of :data:`WEIGHTS_RECORD_FILES` in ``pred_dir`` and its record in today's version
    (:data:`pscgan.migrations.PREDICTION_RECORD`): ``weights`` (file, SHA-256, ``register_lge``, ...) and
    ``preprocessing`` (the plan the predictions were prepared with); None when the folder has neither file.

    Args:
        unreadable: what a reader cannot do when the record is unreadable (ends the error message).

    Raises:
        InputError: the file is not JSON, or holds no ``weights`` object.
    """
    for name in WEIGHTS_RECORD_FILES:
        path = Path(pred_dir) / name
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("weights"), dict):
                return path, migrate(PREDICTION_RECORD, data, source=path)[0]
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deeply
            pass
        raise InputError(path, f"unreadable: {unreadable}")
    return None


class _OutputFailure(BaseModel):
    """An optional output that could not be written (``pscgan.inference.outputs``'s ``_failure``)."""

    model_config = ConfigDict(strict=True, extra="ignore")

    output: str = Field(min_length=1, max_length=1000)
    description: str = Field(max_length=1000)
    error: str = Field(max_length=100_000)


class OutputsRecord(BaseModel):
    """A subject's ``outputs.json``: the optional outputs that could not be written, and the reader's notes
    on the input (fields a newer pscgan adds are not read)."""

    model_config = ConfigDict(strict=True, extra="ignore")

    failed: list[_OutputFailure] = Field(max_length=100)
    notes: list[Annotated[str, Field(max_length=100_000)]] = Field(default_factory=list, max_length=10_000)


def output_failures(out: Path, name: str) -> list[dict[str, str]] | None:
    """The optional outputs of ``OUT/name`` that could not be written, from its ``outputs.json``; None when
    the subject folder has no such file (not finished, a baseline's prediction, a pscgan from before the
    file, or deleted: :func:`pscgan.inference.outputs.failed_outputs` then looks at what is on disk).

    ``--resume`` keeps a finished subject only when this says nothing failed, so a damaged record is never
    read as "nothing failed".

    Raises:
        InputError: naming the file: not JSON, or not a record of failed outputs (field by field), and
            what to do (predict the subject again, or start over).
    """
    from pscgan.io.jsonfile import read_json, validation_problem

    path = subject_folder(out, name) / OUTPUTS_FILE
    if not path.exists() and not path.is_symlink():
        return None
    advice = (f"cannot tell whether the optional outputs (DICOM) of {name} were written: delete the folder "
              f"{name} to predict it again, or start over with --overwrite")
    try:
        record = read_json(path, expect=dict, what="record of failed outputs")
    except InputError as exc:
        raise InputError(path, f"{exc.problem}; {advice}") from None
    try:
        checked = OutputsRecord.model_validate(record)
    except ValidationError as exc:
        raise InputError(path, f"{validation_problem(exc)}; {advice}") from None
    return [f.model_dump() for f in checked.failed]
