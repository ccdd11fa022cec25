"""Batch prediction: many inputs, one output folder, failures reported per input.

Every file is written atomically and each subject folder appears only once complete, so a batch killed
at any moment leaves finished subjects and hidden temporaries. ``resume`` keeps the finished subjects
untouched, removes the temporaries and predicts the rest; it refuses a folder predicted with other
weights (``batch.json``).

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

# What an interrupted batch leaves behind: half-written subject folders and atomic-write temporaries
# (see pscgan.inference.outputs.write_subject_result and pscgan.io.atomic.atomic_path).
_LEFTOVER = re.compile(r"^\..+(\.partial|\.tmp(\..*)?)$")


def remove_leftovers(out: Path) -> list[str]:
    """Delete the temporaries an interrupted batch left in ``out``; returns their names."""
    removed = []
    for child in sorted(out.iterdir()) if out.is_dir() else []:
        if _LEFTOVER.match(child.name):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
            removed.append(child.name)
    return removed


def predict_batch(inputs: Sequence[Path], out: Path, *, weights: Path, device: str = "cpu", batch_size: int = 16,
                  overwrite: bool = False, resume: bool = False, keep_identifiers: bool = False,
                  progress: bool = False, split: str | None = None,
                  anatomy_weights: Path | None = None) -> dict[str, Any]:
    """Predict every subject found in ``inputs`` into ``out``; returns the summary also written to
    ``out/summary.json``: ``failures`` lists the inputs that could not be predicted, with the reason;
    ``output_failures`` the optional outputs (DICOM) of predicted subjects that could not be written, whose
    NIfTI results are in place (``--resume`` predicts such subjects again); ``notes`` the readers' remarks
    on inputs (e.g. DICOM rule breaks tolerated), one per subject and remark."""
    import pscgan
    from pscgan.cli._common import progress_columns
    from pscgan.inference.inputs import discover_inputs, load_input
    from pscgan.inference.outputs import (
        check_resume_weights,
        input_notes,
        output_failures,
        subject_done,
        weights_record,
        write_batch_record,
        write_subject_result,
        write_summary,
        write_tables,
    )
    from pscgan.inference.predictor import Predictor
    from pscgan.io.atomic import prepare_output_dir

    if resume and overwrite:
        raise ConfigError(None, "--resume and --overwrite exclude each other")
    if not weights.is_file():
        raise InputError(weights, "weights file not found (train one with `pscgan train`)")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(None, "--device cuda was asked for but no CUDA device is available")
    predictor = Predictor.from_weights(weights, device=device, batch_size=batch_size,
                                       anatomy_weights=anatomy_weights)
    record = weights_record(weights)
    if anatomy_weights is not None:  # a resume must use the same anatomy network too
        from pscgan.anatomy.model import read_anatomy_metadata

        meta = read_anatomy_metadata(anatomy_weights)
        record["anatomy"] = {"file": Path(anatomy_weights).name, "sha256": meta["sha256"],
                             "licence": meta.get("licence", "")}
    if resume:
        check_resume_weights(out, record)
    else:
        prepare_output_dir(out, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out)
    write_batch_record(out, record)
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
    from rich.progress import Progress

    done, skipped, missing_outputs, notes = [], [], [], []
    with Progress(*progress_columns(), disable=not progress) as bar:
        task = bar.add_task("predicting", total=len(items))
        for item in items:
            if resume and subject_done(out, item.name) and not output_failures(out, item.name):
                skipped.append(item.name)
            else:
                try:
                    loaded = load_input(item)
                    notes += [{"subject": item.name, "note": note} for note in input_notes(loaded)]
                    write_subject_result(out, loaded, predictor.predict(loaded), keep_identifiers=keep_identifiers)
                    done.append(item.name)
                    missing_outputs += [{"input": str(item.path), "subject": item.name, **failure}
                                        for failure in output_failures(out, item.name)]
                except PscganError as exc:
                    failures.append({"input": str(item.path), "subject": item.name, "error": str(exc)})
            bar.advance(task)
    finished = [n for n in names if subject_done(out, n)]
    write_tables(out, finished)
    summary = {"pscgan": pscgan.__version__, "python": platform.python_version(), "weights": record,
               "inputs": [str(p) for p in inputs], "split": split, "predicted": done, "kept_from_before": skipped,
               "subjects": finished, "failures": failures, "output_failures": missing_outputs, "notes": notes}
    write_summary(out, summary)
    return summary
