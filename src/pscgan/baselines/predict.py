"""Predict a dataset's split with a trained baseline, into a folder ``pscgan evaluate`` reads.

The cine is prepared exactly as ``pscgan predict`` prepares it (crop located from the cine, the
baseline's frames and crop size), outputs are mapped back to the original geometry with the
preprocessing records, and each subject is written by :mod:`pscgan.baselines.outputs`. The summary's
weights record says whether the baseline was trained on registered LGE (``register_lge``), so that
``pscgan evaluate`` prepares its reference the same way.

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
    batch_size: int = 16,
) -> dict[str, Any]:
    """Predict every subject of ``data``'s ``split`` part (``None``: all subjects) into ``out``.

    Args:
        weights: a baseline weights file (:func:`pscgan.baselines.train.train_baseline`).
        data: dataset folder.
        out: prediction folder (refused when it holds data, unless ``overwrite``).
        split: part of the dataset's split to predict.
        device: torch device.
        kind: if given, the weights must be of this baseline.
        overwrite: replace what ``out`` holds.
        batch_size: slices per forward pass.

    Returns:
        The summary also written to ``out/summary.json``: predicted subjects, failures (per input, with
        the reason), the weights, and ``defined_parts`` (what the baseline produces).

    Raises:
        InputError: unreadable, corrupted or wrong-kind weights; a missing dataset or split part.
    """
    import pscgan
    from pscgan.baselines.outputs import write_baseline_subject
    from pscgan.baselines.weights import load_baseline_weights, read_baseline_metadata
    from pscgan.inference.inputs import discover_inputs, load_input
    from pscgan.inference.outputs import preprocessing_record, write_summary, write_tables
    from pscgan.io.atomic import prepare_output_dir

    weights, data, out = Path(weights), Path(data), Path(out)
    dev = torch.device(device)
    network, config = load_baseline_weights(weights, kind=kind, map_location=dev)
    items = discover_inputs(data, split=split)
    prepare_output_dir(out, overwrite=overwrite)
    parts = config.defined_parts()
    options = PreprocessOptions(**baseline_plan(config), localisation="cine")
    done, failures = [], []
    for item in items:
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
    write_tables(out, done)
    summary = {"pscgan": pscgan.__version__, "python": platform.python_version(),
               "weights": {"file": weights.name, "sha256": read_baseline_metadata(weights).get("sha256"),
                           "baseline": config.kind.value, "preset": config.preset,
                           "register_lge": config.register_lge},
               "preprocessing": preprocessing_record(options),
               "inputs": [str(data)], "split": split, "predicted": done, "kept_from_before": [],
               "subjects": done, "failures": failures, "defined_parts": parts.model_dump(mode="json")}
    write_summary(out, summary)
    return summary
