"""Train a baseline into a resumable run folder, on the same cache and split as PSCGAN.

::

    RUN/
      config.json        the plan: kind, preset, steps, seed and every hyper-parameter
      split.json         subject ids per split part, and the dataset
      environment.json   versions, device, threads, seed
      metrics.jsonl      losses every ``log_interval`` steps, validation every ``validation_interval``
      checkpoints/       step_*/ (resumable states) and best/ (best validation weights)
      model.safetensors  the final weights (the best validation weights), written last

A baseline is one task (:mod:`pscgan.baselines.tasks`) of the training loop the cascade's phases
train through (:mod:`pscgan.training.loop`): the same logging, checkpoints, resume and divergence
recovery. Validation (on the split's ``validation`` subjects) selects the final weights as PSCGAN's
trainer does: scar Dice for scar_unet3d, overall Dice for monai_unet, SSIM for pix2pix
(:mod:`pscgan.baselines.validation`). A run killed at any point resumes from its last checkpoint and,
in deterministic mode, ends with the same weights as an uninterrupted one; a step with a NaN/inf loss
or gradient goes back to the last checkpoint with a lower learning rate, as in PSCGAN's phases; a
finished run is returned as it is.

Example:
    >>> # split = {"train": [...], "validation": [...], "test": [...]}
    >>> # w = train_baseline("monai_unet", Path("phantom"), Path("runs/unet"), steps=2000, seed=0,
    >>> #                    device=None, split=split)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from pscgan.baselines.config import BaselineConfig, baseline_config, baseline_plan
from pscgan.baselines.tasks import BaselineTask, build_task
from pscgan.baselines.validation import validate_baseline
from pscgan.config.schema import PreprocessingConfig
from pscgan.errors import ConfigError, InputError
from pscgan.migrations import BASELINE_CONFIGURATION, migrate

__all__ = ["BEST", "WEIGHTS_FILE", "train_baseline", "validate_baseline"]

WEIGHTS_FILE = "model.safetensors"
BEST = "best"


def train_baseline(kind: str, data: Path, run: Path, *, steps: int, seed: int, device: str | None,
                   split: dict[str, list[str]], preset: str = "cpu", deterministic: bool = False,
                   stop_after: int | None = None, overwrite: bool = False, register_lge: bool | None = None,
                   preprocessing: PreprocessingConfig | None = None, num_threads: int | None = None) -> Path:
    """Train (or resume, or return the finished) baseline ``kind`` in ``run``.

    Args:
        kind: a :class:`~pscgan.baselines.config.BaselineKind` value.
        data: dataset folder (canonical layout).
        run: run folder; a folder holding this very plan is resumed, one holding another is refused.
        steps: optimiser steps (pix2pix: one discriminator and one generator update per step).
        seed: seeds initialisation, batch order and dropout.
        device: ``cpu``, ``cuda`` or ``None`` (CUDA when available).
        split: subject ids, ``train`` (trained on) and ``validation`` (selects the final weights).
        preset: PSCGAN preset whose input geometry (frames, crop) the baseline uses; ``tiny`` also
            selects test-sized networks.
        deterministic: use deterministic algorithms (a resumed run then ends with the same weights).
        stop_after: stop with a checkpoint after this many steps in this call (the run stays resumable
            and the returned weights file does not exist yet).
        overwrite: start afresh in a folder that holds something else.
        register_lge: train on LGE registered to the cine end-diastolic frame (default: the preset's
            ``train.register_lge``); part of the run's plan.
        preprocessing: the input's plan (default: the preset's ``preprocessing``); part of the run's plan.
        num_threads: CPU threads for this training (default: torch's); speed only, not the plan.

    Returns:
        The final weights file, ``run/model.safetensors``.

    Raises:
        ConfigError: ``run`` holds another plan; bad arguments.
        InputError: the split has no training subject, or they lack LGE or labels.
    """
    config = baseline_config(kind, preset, register_lge=register_lge, preprocessing=preprocessing)
    if steps < 1:
        raise ConfigError(None, f"steps must be >= 1, got {steps}")
    if not split.get("train"):
        raise InputError(data, "the split has no training subjects")
    run, data = Path(run), Path(data)
    plan = {"kind": config.kind.value, "preset": preset, "steps": steps, "seed": seed,
            "config": config.model_dump(mode="json")}
    parts = {k: sorted(split.get(k, [])) for k in ("train", "validation", "test")}
    weights = run / WEIGHTS_FILE
    if _start_or_resume(run, plan, parts, data, overwrite) and weights.is_file():
        return weights
    dev = _device(device)
    previous, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    torch.use_deterministic_algorithms(deterministic or previous)
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        return _train(config, plan, parts, data, run, dev, deterministic, stop_after)
    finally:
        torch.use_deterministic_algorithms(previous)
        torch.set_num_threads(threads)


def _start_or_resume(run: Path, plan: dict[str, Any], parts: dict[str, list[str]], data: Path,
                     overwrite: bool) -> bool:
    """Write the plan of a new run, or check a saved one; True when ``run`` already holds this plan."""
    from pscgan.io.atomic import prepare_output_dir, write_json_atomic
    from pscgan.training.run_folder import CONFIG_FILE, SPLIT_FILE

    saved_plan = run / CONFIG_FILE
    if saved_plan.is_file() and not overwrite:
        saved = json.loads(saved_plan.read_text())
        if isinstance(saved, dict):  # a run started by an older pscgan continues with its plan as it meant
            saved["config"] = migrate(BASELINE_CONFIGURATION, saved.get("config"), source=saved_plan)[0]
        saved_split = json.loads((run / SPLIT_FILE).read_text())
        if saved != plan or {k: saved_split.get(k) for k in parts} != parts:
            raise ConfigError(saved_plan, "the run was started with another baseline, budget, seed or split; "
                                          "use another run folder (or overwrite)")
        return True
    prepare_output_dir(run, overwrite=overwrite)
    write_json_atomic(run / SPLIT_FILE, {"dataset": str(data.resolve()), **parts})
    write_json_atomic(saved_plan, plan)  # last: its presence marks a started run
    return False


def _device(device: str | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(None, f"device {device!r} was asked for but no CUDA device is available")
    return torch.device(device)


def _datasets(config: BaselineConfig, data: Path, run: Path, parts: dict[str, list[str]]) -> tuple[Any, Any]:
    from pscgan.data.cache import TrainingCache, ensure_cache
    from pscgan.data.protocol import preprocess_options
    from pscgan.training.dataset import CineLgeDataset

    # PSCGAN training's options, registration protocol included: one cache serves both
    pre = preprocess_options(data, register_lge=config.register_lge, **baseline_plan(config))
    cache = TrainingCache(ensure_cache(data, pre, fallback_dir=run / "cache"))
    train_idx, val_idx = cache.indices_of(parts["train"]), cache.indices_of(parts["validation"])
    if not train_idx:
        raise InputError(data, f"none of the training subjects is in the dataset (e.g. {parts['train'][:3]})")
    return CineLgeDataset(cache, train_idx), (CineLgeDataset(cache, val_idx) if val_idx else None)


def _train(config: BaselineConfig, plan: dict[str, Any], parts: dict[str, list[str]], data: Path, run: Path,
           device: torch.device, deterministic: bool, stop_after: int | None) -> Path:
    """Train (or resume) through the one training loop; the final weights are the best validation ones."""
    from pscgan.baselines.weights import save_baseline_weights
    from pscgan.training.checkpoint import latest_checkpoint, load_checkpoint
    from pscgan.training.distributed import single_process
    from pscgan.training.divergence import DivergenceGuard
    from pscgan.training.loop import Schedule, TrainingLoop
    from pscgan.training.loop_state import TaskLayout
    from pscgan.training.run_folder import ENV_FILE, environment_info, write_run_json

    steps, seed = plan["steps"], plan["seed"]
    write_run_json(
        run, ENV_FILE, environment_info(seed=seed, device=str(device), deterministic=deterministic)
    )
    train_ds, val_ds = _datasets(config, data, run, parts)
    schedule = Schedule(steps=steps, batch_size=config.batch_size, log_interval=config.log_interval,
                        validation_interval=config.validation_interval,
                        checkpoint_interval=config.checkpoint_interval, seed=seed)
    # the cascade's recovery rule and defaults (train.divergence_retries, train.divergence_lr_factor)
    guard = DivergenceGuard(base_lr=config.lr, run=run)
    loop = TrainingLoop(lambda resumed: build_task(config, device, val_ds), train_ds, schedule, run=run,
                        ctx=single_process(device), layout=TaskLayout(best_name=BEST), guard=guard,
                        stop_after=stop_after)
    resume = load_checkpoint(run, map_location=device) if latest_checkpoint(run) is not None else None
    result = loop.run(resume)
    if not result.finished:  # stopped by stop_after: resumable, no weights file yet
        return run / WEIGHTS_FILE
    assert isinstance(result.task, BaselineTask)
    save_baseline_weights(run / WEIGHTS_FILE, result.task.network, config)
    return run / WEIGHTS_FILE
