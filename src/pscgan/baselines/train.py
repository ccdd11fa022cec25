"""Train a baseline into a resumable run folder, on the same cache and split as PSCGAN.

::

    RUN/
      config.json        the plan: kind, preset, steps, seed and every hyper-parameter
      split.json         subject ids per split part, and the dataset
      environment.json   versions, device, threads, seed
      metrics.jsonl      losses every ``log_interval`` steps, validation every ``validation_interval``
      checkpoints/       step_*/ (resumable states) and best/ (best validation weights)
      model.safetensors  the final weights (the best validation weights), written last

Validation (on the split's ``validation`` subjects) selects the final weights as PSCGAN's trainer
does: scar Dice for scar_unet3d, overall Dice for monai_unet, SSIM for pix2pix. A run killed at any
point resumes from its last checkpoint and, in deterministic mode, ends with the same weights as an
uninterrupted one; a finished run is returned as it is.

Example:
    >>> # split = {"train": [...], "validation": [...], "test": [...]}
    >>> # w = train_baseline("monai_unet", Path("phantom"), Path("runs/unet"), steps=2000, seed=0,
    >>> #                    device=None, split=split)
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pscgan.baselines.config import BaselineConfig, BaselineKind, baseline_config
from pscgan.baselines.predict import predict_arrays
from pscgan.baselines.tasks import BaselineTask, build_task
from pscgan.errors import ConfigError, InputError
from pscgan.io.lock import output_lock
from pscgan.io.paths import check_not_input

WEIGHTS_FILE = "model.safetensors"
BEST = "best"


def train_baseline(kind: str, data: Path, run: Path, *, steps: int, seed: int, device: str | None,
                   split: dict[str, list[str]], preset: str = "cpu", deterministic: bool = False,
                   stop_after: int | None = None, overwrite: bool = False, register_lge: bool | None = None,
                   num_threads: int | None = None) -> Path:
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
        num_threads: CPU threads for this training (default: torch's); speed only, not the plan.

    Returns:
        The final weights file, ``run/model.safetensors``.

    Raises:
        ConfigError: ``run`` holds another plan; bad arguments.
        InputError: the split has no training subject, or they lack LGE or labels.
    """
    config = baseline_config(kind, preset, register_lge=register_lge)
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
    pre = preprocess_options(data, register_lge=config.register_lge, n_phases=config.frames,
                             crop_size=config.image_size)
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
    from pscgan.baselines.weights import save_baseline_weights
    from pscgan.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
    from pscgan.training.resume_checks import check_step_resume
    from pscgan.training.rng import rng_state, seed_everything, set_rng_state
    from pscgan.training.trainer import checkpoint_errors
    from pscgan.training.run_folder import ENV_FILE, MetricsLog, environment_info, write_run_json
    from pscgan.training.stream import BatchStream

    steps, seed = plan["steps"], plan["seed"]
    write_run_json(
        run, ENV_FILE, environment_info(seed=seed, device=str(device), deterministic=deterministic)
    )
    train_ds, val_ds = _datasets(config, data, run, parts)
    stream = BatchStream(train_ds, config.batch_size, seed=seed)
    seed_everything(seed)
    task = build_task(config, device)
    metrics = MetricsLog(run / "metrics.jsonl")
    state: dict[str, Any] = {"step": 0, "best": None}
    if latest_checkpoint(run) is not None:
        ck = load_checkpoint(run, map_location=device)
        with checkpoint_errors(ck.path):
            saved = dict(ck.state["train"])
            # checksums prove the files are as written, not that an edited state.json fits this run
            check_step_resume(ck, step=saved["step"], steps=steps, best=saved["best"], best_key="score",
                              optimizers={n: ck.state["optimizers"][n] for n in task.optimizers},
                              best_file=run / "checkpoints" / BEST, stream=ck.state["stream"],
                              batch_size=config.batch_size, n_train=len(train_ds))
            for name, module in task.modules.items():
                module.load_state_dict(ck.module_state(name))
            for name, opt in task.optimizers.items():
                opt.load_state_dict(ck.state["optimizers"][name])
            stream.load_state_dict(ck.state["stream"])
            set_rng_state(ck.state["rng"])
            state = {"step": saved["step"], "best": saved["best"]}
        metrics.truncate_after(state["step"])
    task.train()
    done_here, last = 0, time.perf_counter()
    while state["step"] < steps:
        logs = task.step(stream.next())
        state["step"] += 1
        step, done_here = state["step"], done_here + 1
        if not all(math.isfinite(v) for v in logs.values()):
            raise FloatingPointError(f"{config.kind.value} step {step}: non-finite loss {logs}")
        record: dict[str, Any] = {}
        if step % config.log_interval == 0 or step == steps:
            now = time.perf_counter()
            record = {**logs, "seconds_per_step": (now - last) / min(config.log_interval, done_here)}
            last = now
        if val_ds is not None and (step % config.validation_interval == 0 or step == steps):
            scores = validate_baseline(task, val_ds, device)
            record.update({f"val_{k}": v for k, v in scores.items()})
            if state["best"] is None or scores["score"] > state["best"]["score"]:
                state["best"] = {"score": scores["score"], "step": step}
                save_checkpoint(run, BEST, modules={"network": task.network}, state=dict(state["best"]),
                                update_latest=False)
        if record:
            metrics.write({"step": step, **record})
        stopping = stop_after is not None and done_here >= stop_after and step < steps
        if step % config.checkpoint_interval == 0 or step == steps or stopping:
            payload = {"train": state, "rng": rng_state(), "stream": stream.state_dict(),
                       "optimizers": {n: o.state_dict() for n, o in task.optimizers.items()}}
            save_checkpoint(run, f"step_{step:08d}", modules=task.modules, state=payload, keep_last=2,
                            protect={BEST})
        if stopping:
            return run / WEIGHTS_FILE
    if state["best"] is not None:  # final weights: the best validation ones, as PSCGAN's phases
        best = load_checkpoint(run / "checkpoints" / BEST, map_location=device)
        task.network.load_state_dict(best.module_state("network"))
    save_baseline_weights(run / WEIGHTS_FILE, task.network, config)
    return run / WEIGHTS_FILE


def validate_baseline(task: BaselineTask, data: Any, device: torch.device) -> dict[str, float | None]:
    """Validation metrics of ``task``'s network, with the ``score`` that selects the best weights."""
    from pscgan.evaluation.segmentation import SegmentationMetrics
    from pscgan.evaluation.synthesis import SynthesisMetrics

    kind = task.config.kind
    samples = [data[i] for i in range(len(data))]
    pred = predict_arrays(task.network, kind, np.stack([s["cine"][0].numpy() for s in samples]), device)
    if "lge" in pred:
        syn = SynthesisMetrics()
        syn(pred["lge"], np.stack([s["lge"][0].numpy() for s in samples]))
        ssim = syn.aggregate()["ssim"].mean
        return {"ssim": ssim, "score": ssim or 0.0}
    seg = SegmentationMetrics(hd95=False)
    seg(pred["labels"], np.stack([s["labels"].numpy() for s in samples]))
    agg = seg.aggregate()
    scar = agg["per_class"]["scar"]["dice"].mean
    if kind is BaselineKind.SCAR_UNET3D:
        return {"dice_scar": scar, "score": scar or 0.0}
    overall = agg["overall"]["dice"].mean
    return {"dice_overall": overall, "dice_scar": scar, "score": overall or 0.0}
