"""Batch prediction: many inputs, one output folder, failures reported per input.

Every file is written atomically and each subject folder appears only once complete, so a batch killed
at any moment leaves finished subjects and hidden temporaries. ``resume`` keeps the finished subjects
untouched, removes the temporaries and predicts the rest; it refuses a folder predicted with other
weights or another anatomy network (``batch.json``). What a resume keeps is settled from the folder's
records before anything is written: a kept subject's ``clinical.json`` or ``outputs.json`` that does not
read refuses the resume in one line (never "nothing failed"), and a subject without ``outputs.json`` (a
pscgan from before it) is judged by the optional outputs on disk.

Example:
    >>> # summary = predict_batch([Path("phantom")], Path("pred"), weights=default_weights_path())
    >>> # summary["failures"] -> []
"""

from __future__ import annotations

import platform
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pscgan.errors import ConfigError, InputError, PscganError

# What an interrupted batch leaves behind: half-written subject folders (pscgan.inference.outputs.
# staged_subject) and atomic-write temporaries, whose names carry pscgan's mark (pscgan.io.atomic).
_PARTIAL = re.compile(r"^\.(.+)\.partial$")


def remove_leftovers(out: Path, names: Sequence[str] = ()) -> list[str]:
    """Delete the temporaries an interrupted batch left in ``out``; returns their names.

    Only what pscgan itself writes goes: files whose name carries :data:`~pscgan.io.atomic.TEMP_MARK`, and
    ``.NAME.partial`` folders of the subjects ``names`` of this batch. A user's own ``*.tmp`` file or
    ``*.partial`` folder stays.
    """
    from pscgan.io.atomic import TEMP_MARK

    removed = []
    for child in sorted(out.iterdir()) if out.is_dir() else []:
        partial = _PARTIAL.match(child.name)
        if child.is_symlink() or not child.name.startswith("."):
            continue
        if partial and partial.group(1) in names and child.is_dir():
            shutil.rmtree(child)
        elif TEMP_MARK in child.name and child.is_file():
            child.unlink()
        else:
            continue
        removed.append(child.name)
    return removed


def predict_batch(inputs: Sequence[Path], out: Path, *, weights: Path | Sequence[Path], device: str = "cpu",
                  batch_size: int = 16,
                  overwrite: bool = False, resume: bool = False, keep_identifiers: bool = False,
                  progress: bool = False, split: str | None = None,
                  anatomy_weights: Path | None = None, ed_phase: int | None = None) -> dict[str, Any]:
    """Predict every subject found in ``inputs`` into ``out``; returns the summary also written to
    ``out/summary.json``: ``failures`` lists the inputs that could not be predicted, with the reason;
    ``output_failures`` the optional outputs (DICOM) of predicted subjects that could not be written, whose
    NIfTI results are in place (``--resume`` predicts such subjects again); ``notes`` the readers' remarks
    on inputs (e.g. DICOM rule breaks tolerated), one per subject and remark. ``ed_phase``: the
    end-diastolic phase of every input (default: each subject's own, phase 0 for cine files and DICOM).
    Several ``weights`` predict as their ensemble (:class:`~pscgan.models.ensemble.CascadeEnsemble`).

    ``out`` may not be an input, hold one or lie inside one, and is locked while the batch writes it
    (:func:`pscgan.io.lock.output_lock`): a second writer is refused.
    """
    from pscgan.io.lock import output_lock
    from pscgan.io.paths import check_not_input

    if resume and overwrite:
        raise ConfigError(None, "--resume and --overwrite exclude each other")
    members = [weights] if isinstance(weights, Path) else list(weights)
    check_not_input(out, [*inputs, *members] + ([anatomy_weights] if anatomy_weights is not None else []))
    with output_lock(out):
        return _predict_locked(inputs, out, weights=members, device=device, batch_size=batch_size,
                               overwrite=overwrite, resume=resume, keep_identifiers=keep_identifiers,
                               progress=progress, split=split, anatomy_weights=anatomy_weights,
                               ed_phase=ed_phase)


def _predict_locked(inputs: Sequence[Path], out: Path, *, weights: list[Path], device: str, batch_size: int,
                    overwrite: bool, resume: bool, keep_identifiers: bool, progress: bool,
                    split: str | None, anatomy_weights: Path | None,
                    ed_phase: int | None = None) -> dict[str, Any]:
    import pscgan
    from pscgan.data.predictions import WEIGHTS_RECORD_FILES, output_failures, subject_done
    from pscgan.inference.inputs import discover_inputs, load_input
    from pscgan.inference.outputs import (
        check_resume_weights,
        input_notes,
        kept_on_resume,
        preprocessing_record,
        weights_record,
        write_batch_record,
        write_subject_result,
        write_summary,
        write_tables,
    )
    from pscgan.inference.predictor import Predictor
    from pscgan.io.atomic import prepare_output_dir, resume_output_dir
    from pscgan.ui import progress_columns

    if not weights:
        raise ConfigError(None, "no weights given")
    for path in weights:
        if not path.is_file():
            raise InputError(path, "weights file not found (train one with `pscgan train`)")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(None, "--device cuda was asked for but no CUDA device is available")
    predictor = Predictor.from_weights(weights, device=device, batch_size=batch_size,
                                       anatomy_weights=anatomy_weights, ed_phase=ed_phase)
    record = weights_record(weights)
    if anatomy_weights is not None:  # a resume must use the same anatomy network too
        from pscgan.anatomy.model import read_anatomy_metadata

        meta = read_anatomy_metadata(anatomy_weights)
        record["anatomy"] = {"file": Path(anatomy_weights).name, "sha256": meta["sha256"],
                             "licence": meta.get("licence", "")}
    if resume:
        resume_output_dir(out, records=WEIGHTS_RECORD_FILES)
        check_resume_weights(out, record)
    else:
        prepare_output_dir(out, overwrite=overwrite)
    items, failures = [], []
    for path in inputs:
        try:
            items.extend(discover_inputs(path, split=split))
        except PscganError as exc:
            failures.append({"input": str(path), "error": str(exc)})
    names = [i.name for i in items]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise InputError(None, f"several inputs would write to the same output folder: {sorted(dupes)}")
    # what a resume keeps is settled before anything is written: a damaged record refuses the whole resume
    kept = {i.name for i in items if resume and kept_on_resume(out, i)}
    write_batch_record(out, record, preprocessing_record(predictor.options))
    remove_leftovers(out, names)
    from rich.progress import Progress

    done, skipped, missing_outputs, notes = [], [], [], []
    with Progress(*progress_columns(), disable=not progress) as bar:
        task = bar.add_task("predicting", total=len(items))
        for item in items:
            if item.name in kept:
                skipped.append(item.name)
            else:
                try:
                    loaded = load_input(item)
                    notes += [{"subject": item.name, "note": note} for note in input_notes(loaded)]
                    write_subject_result(out, loaded, predictor.predict(loaded),
                                         keep_identifiers=keep_identifiers)
                    done.append(item.name)
                    missing_outputs += [{"input": str(item.path), "subject": item.name, **failure}
                                        for failure in output_failures(out, item.name) or []]
                except PscganError as exc:
                    failures.append({"input": str(item.path), "subject": item.name, "error": str(exc)})
            bar.advance(task)
    finished = [n for n in names if subject_done(out, n)]
    write_tables(out, finished)
    summary = {"pscgan": pscgan.__version__, "python": platform.python_version(), "weights": record,
               "preprocessing": preprocessing_record(predictor.options),
               "inputs": [str(p) for p in inputs], "split": split, "predicted": done,
               "kept_from_before": skipped,
               "subjects": finished, "failures": failures, "output_failures": missing_outputs, "notes": notes}
    write_summary(out, summary)
    return summary
