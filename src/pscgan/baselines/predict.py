"""Predict a dataset's split with a trained baseline, into a folder ``pscgan evaluate`` reads.

The cine is prepared exactly as ``pscgan predict`` prepares it (crop located from the cine, the
baseline's frames and crop size), outputs are mapped back to the original geometry with the
preprocessing records, and each subject is written by :mod:`pscgan.baselines.outputs`. The summary's
weights record says whether the baseline was trained on registered LGE (``register_lge``), so that
``pscgan evaluate`` prepares its reference the same way. The output folder follows the rules of
``pscgan predict`` (checked against the inputs, locked, ``overwrite``/``resume`` touching only what
pscgan wrote), and a prediction killed part-way is continued with ``resume``.

Example:
    >>> # summary = predict_baseline(Path("runs/unet/model.safetensors"), Path("phantom"), Path("pred-unet"))
    >>> # evaluate(Path("pred-unet"), Path("phantom"))  # parts the baseline lacks are reported as n/d
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pscgan.baselines.config import BaselineKind, baseline_plan
from pscgan.baselines.networks import decode_outputs
from pscgan.errors import PscganError
from pscgan.inference.inputs import LoadedInput
from pscgan.preprocessing.pipeline import PreparedSlice, PreprocessOptions, prepare_arrays


def prepare_input(item: LoadedInput, options: PreprocessOptions) -> list[PreparedSlice]:
    """The network crops of one input, prepared as :meth:`pscgan.inference.predictor.Predictor.prepare`
    does."""
    info = item.info
    if info is None:
        return prepare_arrays(item.cine, None, None, options, subject_id=item.source.name)
    levels, angles = info.slice_metadata(item.cine.array.shape[2])
    return prepare_arrays(item.cine, None, None, options, subject_id=item.source.name, levels=levels,
                          angles=angles, rr_interval_ms=info.rr_interval_ms, ed_phase=info.ed_phase)


@torch.no_grad()
def predict_arrays(network: torch.nn.Module, kind: BaselineKind, cine: np.ndarray, device: torch.device,
                   batch_size: int = 16) -> dict[str, np.ndarray]:
    """Run ``network`` on cine crops ``(N, T, H, W)``; returns ``labels`` (N, H, W) uint8 and/or ``lge``."""
    was_training = network.training
    network.eval()
    out: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(cine), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(cine[start:start + batch_size], np.float32))[:, None]
        for key, value in decode_outputs(kind, network(x.to(device))).items():
            out.setdefault(key, []).append(
                value.float().cpu().numpy() if key == "lge" else value.cpu().numpy()
            )
    network.train(was_training)
    return {k: np.concatenate(v) for k, v in out.items()}


def predict_baseline(
    weights: Path,
    data: Path,
    out: Path,
    *,
    split: str | None = "test",
    device: str = "cpu",
    kind: str | None = None,
    overwrite: bool = False,
    resume: bool = False,
    batch_size: int = 16,
) -> dict[str, Any]:
    """Predict every subject of ``data``'s ``split`` part (``None``: all subjects) into ``out``.

    ``out`` follows the rules of ``pscgan predict``: it may not be an input, hold one or lie inside one; it
    is locked while written (:func:`pscgan.io.lock.output_lock`); ``overwrite`` empties only a folder
    pscgan wrote, and ``resume`` continues only such a folder, predicted with the same weights
    (``batch.json``), keeping its finished subjects and removing only pscgan's own temporaries.

    Args:
        weights: a baseline weights file (:func:`pscgan.baselines.train.train_baseline`).
        data: dataset folder.
        out: prediction folder (refused when it holds data, unless ``overwrite`` or ``resume``).
        split: part of the dataset's split to predict.
        device: torch device.
        kind: if given, the weights must be of this baseline.
        overwrite: replace what ``out`` holds.
        resume: keep the finished subjects of ``out`` and predict the rest.
        batch_size: slices per forward pass.

    Returns:
        The summary also written to ``out/summary.json``: predicted subjects, those kept from before,
        failures (per input, with the reason), the weights, and ``defined_parts`` (what the baseline
        produces).

    Raises:
        InputError: unreadable, corrupted or wrong-kind weights; a missing dataset or split part.
        OutputError: ``out`` is an input, holds data pscgan did not write, or another process writes it.
        ConfigError: ``resume`` with ``overwrite``, or a resume with other weights.
    """
    from pscgan.errors import ConfigError, InputError
    from pscgan.io.lock import output_lock
    from pscgan.io.paths import check_not_input

    if resume and overwrite:
        raise ConfigError(None, "resume and overwrite exclude each other")
    weights, data, out = Path(weights), Path(data), Path(out)
    for path, what in ((weights, "baseline weights file"), (data, "dataset folder")):
        if not path.exists():
            raise InputError(path, f"{what} not found")
    check_not_input(out, [weights, data])
    with output_lock(out):
        return _predict_locked(weights, data, out, split=split, device=device, kind=kind, overwrite=overwrite,
                               resume=resume, batch_size=batch_size)


def _predict_locked(weights: Path, data: Path, out: Path, *, split: str | None, device: str, kind: str | None,
                    overwrite: bool, resume: bool, batch_size: int) -> dict[str, Any]:
    import pscgan
    from pscgan.baselines.outputs import write_baseline_subject
    from pscgan.baselines.weights import load_baseline_weights, read_baseline_metadata
    from pscgan.data.predictions import WEIGHTS_RECORD_FILES
    from pscgan.evaluation.parts import partial_prediction_done
    from pscgan.inference.batch import remove_leftovers
    from pscgan.inference.inputs import discover_inputs, load_input
    from pscgan.inference.outputs import (
        check_resume_weights,
        preprocessing_record,
        write_batch_record,
        write_summary,
        write_tables,
    )
    from pscgan.io.atomic import prepare_output_dir, resume_output_dir

    dev = torch.device(device)
    network, config = load_baseline_weights(weights, kind=kind, map_location=dev)
    items = discover_inputs(data, split=split)  # before the output folder is touched
    record = {"file": weights.name, "sha256": read_baseline_metadata(weights).get("sha256"),
              "baseline": config.kind.value, "preset": config.preset, "register_lge": config.register_lge}
    if resume:
        resume_output_dir(out, records=WEIGHTS_RECORD_FILES)
        check_resume_weights(out, record)
    else:
        prepare_output_dir(out, overwrite=overwrite)
    options = PreprocessOptions(**baseline_plan(config), localisation="cine")
    write_batch_record(out, record, preprocessing_record(options))  # as pscgan predict's: for evaluate
    names = [item.name for item in items]
    remove_leftovers(out, names)
    parts = config.defined_parts()
    done, kept, failures = [], [], []
    for item in items:
        if resume and partial_prediction_done(out, item.name):
            kept.append(item.name)
            continue
        try:
            loaded = load_input(item)
            slices = prepare_input(loaded, options)
            predicted = predict_arrays(
                network, config.kind, np.stack([s.cine for s in slices]), dev, batch_size
            )
            write_baseline_subject(out, loaded, slices, predicted, parts)
            done.append(item.name)
        except PscganError as exc:
            failures.append({"input": str(item.path), "subject": item.name, "error": str(exc)})
    finished = [n for n in names if partial_prediction_done(out, n)]
    write_tables(out, finished)
    summary = {"pscgan": pscgan.__version__, "python": platform.python_version(), "weights": record,
               "preprocessing": preprocessing_record(options),
               "inputs": [str(data)], "split": split, "predicted": done, "kept_from_before": kept,
               "subjects": finished, "failures": failures, "defined_parts": parts.model_dump(mode="json")}
    write_summary(out, summary)
    return summary
