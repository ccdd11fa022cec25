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

from pathlib import Path
from typing import Any

import numpy as np
import torch

from pscgan.baselines.config import BaselineConfig, baseline_config, baseline_config_from_dict, baseline_plan
from pscgan.baselines.tasks import BaselineTask, build_task
from pscgan.baselines.validation import validate_baseline
from pscgan.config.schema import PreprocessingConfig
from pscgan.errors import ConfigError, InputError
from pscgan.io.lock import output_lock
from pscgan.io.paths import check_not_input

__all__ = ["BEST", "WEIGHTS_FILE", "check_targets", "check_training_inputs", "train_baseline",
           "validate_baseline"]

WEIGHTS_FILE = "model.safetensors"
BEST = "best"


def train_baseline(kind: str, data: Path, run: Path, *, steps: int, seed: int, device: str | None,
                   split: dict[str, list[str]], preset: str = "cpu", deterministic: bool = False,
                   stop_after: int | None = None, overwrite: bool = False, register_lge: bool | None = None,
                   preprocessing: PreprocessingConfig | None = None, num_threads: int | None = None,
                   dihedral_augmentation: float = 0.0, ed_shift_augmentation: int = 0) -> Path:
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
        dihedral_augmentation: probability that a training sample is turned and/or mirrored
            (:mod:`pscgan.training.augmentation`); part of the run's plan.
        ed_shift_augmentation: largest cyclic shift of a training sample's cine frames either way (0:
            none); part of the run's plan.

    Returns:
        The final weights file, ``run/model.safetensors``.

    Raises:
        ConfigError: ``run`` holds another plan; bad arguments.
        InputError: the split has no training subject, or they lack LGE or labels.
    """
    config = baseline_config(kind, preset, register_lge=register_lge, preprocessing=preprocessing,
                             dihedral_augmentation=dihedral_augmentation,
                             ed_shift_augmentation=ed_shift_augmentation)
    if steps < 1:
        raise ConfigError(None, f"steps must be >= 1, got {steps}")
    if not split.get("train"):
        raise InputError(data, "the split has no training subjects")
    run, data = Path(run), Path(data)
    plan = {"kind": config.kind.value, "preset": preset, "steps": steps, "seed": seed,
            "config": config.model_dump(mode="json")}
    parts = {k: sorted(split.get(k, [])) for k in ("train", "validation", "test")}
    dev = _device(device)
    check_training_inputs(data, parts)
    check_not_input(run, [data])
    with output_lock(run):
        weights = run / WEIGHTS_FILE
        if _start_or_resume(run, plan, parts, data, overwrite) and weights.is_file():
            return weights
        return _train_with(config, plan, parts, data, run, dev, deterministic, stop_after, num_threads)


def _train_with(config: BaselineConfig, plan: dict[str, Any], parts: dict[str, list[str]], data: Path,
                run: Path, dev: torch.device, deterministic: bool, stop_after: int | None,
                num_threads: int | None) -> Path:
    """:func:`_train` with torch's determinism and thread count set for it, and put back after."""
    previous, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    torch.use_deterministic_algorithms(deterministic or previous)
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        return _train(config, plan, parts, data, run, dev, deterministic, stop_after)
    finally:
        torch.use_deterministic_algorithms(previous)
        torch.set_num_threads(threads)


def check_training_inputs(data: Path, parts: dict[str, list[str]]) -> None:
    """Refuse, in one line, a dataset a baseline cannot train on: missing, unreadable manifest, a subject
    folder named unlike its ``subject_id``, partial labels, or a split naming subjects it does not hold
    (they would be left out silently).

    Raises:
        InputError: naming the dataset (or its file) and the problem.
    """
    from pscgan.data.annotation import require_training_annotation
    from pscgan.data.layout import check_subject_ids, list_subject_folders

    held = {f.name for f in list_subject_folders(data)}
    check_subject_ids(data)
    require_training_annotation(data)
    unknown = sorted({s for k in ("train", "validation") for s in parts[k]} - held)
    if unknown:
        raise InputError(data, f"the split names {len(unknown)} subject(s) the dataset does not hold, e.g. "
                               f"{unknown[:3]}")


def _start_or_resume(run: Path, plan: dict[str, Any], parts: dict[str, list[str]], data: Path,
                     overwrite: bool) -> bool:
    """Write the plan of a new run, or check a saved one; True when ``run`` already holds this plan.

    A saved plan is continued only in a folder pscgan wrote (its output marker, or a run written before
    the marker existed: plan and split both there); ``overwrite`` empties only such a folder.
    """
    from pscgan.io.atomic import prepare_output_dir, write_json_atomic, written_by_pscgan
    from pscgan.io.jsonfile import read_json
    from pscgan.training.run_folder import CONFIG_FILE, SPLIT_FILE

    saved_plan = run / CONFIG_FILE
    ours = written_by_pscgan(run) or (run / SPLIT_FILE).is_file()
    if saved_plan.is_file() and ours and not overwrite:
        saved = read_json(saved_plan, expect=dict, what="baseline run plan")
        # a run started by an older pscgan continues with its plan as it meant
        # (and with the defaults of fields added since, so that adding one does not refuse its runs)
        saved["config"] = baseline_config_from_dict(saved.get("config"), source=saved_plan).model_dump(
            mode="json")
        saved_split = read_json(run / SPLIT_FILE, expect=dict, what="run split")
        if saved != plan or {k: saved_split.get(k) for k in parts} != parts:
            raise ConfigError(saved_plan, "the run was started with another baseline, budget, seed or split; "
                                          "use another run folder (or overwrite)")
        return True
    # a folder pscgan marked but whose plan was never written has not started training: nothing to lose
    prepare_output_dir(run, overwrite=overwrite or (written_by_pscgan(run) and not saved_plan.is_file()))
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
    check_targets(cache, train_idx, data, config)
    return CineLgeDataset(cache, train_idx), (CineLgeDataset(cache, val_idx) if val_idx else None)


def check_targets(cache: Any, train_idx: list[int], data: Path, config: BaselineConfig) -> None:
    """Refuse training slices without anything to learn: a segmentation baseline needs labels, pix2pix
    LGE; a baseline trained on none would finish without a warning and learn nothing.

    Raises:
        InputError: no training slice has the target this baseline learns.
    """
    parts = config.defined_parts()
    for key, wanted, file in (("has_labels", parts.segmentation, "labels.nii.gz"),
                              ("has_lge", parts.synthetic_lge, "lge.nii.gz")):
        if wanted and not np.asarray(cache.arrays[key])[train_idx].any():
            raise InputError(data, f"no training subject has {file}: {config.kind.value} cannot learn from "
                                   "this dataset; check it with `pscgan data check`")


def _train(config: BaselineConfig, plan: dict[str, Any], parts: dict[str, list[str]], data: Path, run: Path,
           device: torch.device, deterministic: bool, stop_after: int | None) -> Path:
    """Train (or resume) through the one training loop; the final weights are the best validation ones."""
    from pscgan.baselines.weights import save_baseline_weights
    from pscgan.training.checkpoint import Checkpoint, latest_checkpoint, load_checkpoint
    from pscgan.training.distributed import single_process
    from pscgan.training.divergence import DivergenceGuard
    from pscgan.training.loop import Schedule, TrainingLoop
    from pscgan.training.loop_state import LoopState, TaskLayout
    from pscgan.training.resume_checks import check_task_resume, split_digest
    from pscgan.training.run_folder import ENV_FILE, SPLIT_FILE, environment_info, write_run_json

    steps, seed = plan["steps"], plan["seed"]
    write_run_json(
        run, ENV_FILE, environment_info(seed=seed, device=str(device), deterministic=deterministic)
    )
    train_ds, val_ds = _datasets(config, data, run, parts)
    schedule = Schedule(steps=steps, batch_size=config.batch_size, log_interval=config.log_interval,
                        validation_interval=config.validation_interval,
                        checkpoint_interval=config.checkpoint_interval, seed=seed,
                        symmetry_probability=config.dihedral_augmentation,
                        ed_shift_frames=config.ed_shift_augmentation)
    # the cascade's recovery rule and defaults (train.divergence_retries, train.divergence_lr_factor)
    guard = DivergenceGuard(base_lr=config.lr, run=run)
    layout = TaskLayout(best_name=BEST, split_sha256=split_digest(parts))  # the split in every checkpoint

    def check(ck: Checkpoint, state: LoopState, optimizers: dict[str, Any]) -> None:
        # checksums prove the files are as written, not that an edited state.json fits this run
        check_task_resume(ck, state, optimizers, steps=steps, batch_size=config.batch_size,
                          n_train=len(train_ds), guard=guard, best_name=BEST, split=parts,
                          split_path=run / SPLIT_FILE)

    loop = TrainingLoop(lambda resumed: build_task(config, device, val_ds), train_ds, schedule, run=run,
                        ctx=single_process(device), layout=layout, guard=guard, stop_after=stop_after,
                        check_resume=check)
    resume = load_checkpoint(run, map_location=device) if latest_checkpoint(run) is not None else None
    result = loop.run(resume)
    if not result.finished:  # stopped by stop_after: resumable, no weights file yet
        return run / WEIGHTS_FILE
    assert isinstance(result.task, BaselineTask)
    save_baseline_weights(run / WEIGHTS_FILE, result.task.network, config)
    return run / WEIGHTS_FILE
