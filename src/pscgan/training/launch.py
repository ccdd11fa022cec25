"""Set up and run a training run: run folder, cache, subject-level split, logging, progress, weights.

Works the same in one process and under ``torchrun`` (``python -m pscgan.train``): only rank 0 writes
files; every rank reads the same cache and trains on its share of each epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pscgan.config.schema import PscganConfig, load_config
from pscgan.errors import ConfigError, InputError

CACHE_SUBDIR = "cache"


@dataclass
class TrainOptions:
    """What ``pscgan train`` was asked to do.

    Attributes:
        run: run folder.
        data: dataset folder (canonical layout); optional when resuming (taken from split.json).
        config: the resolved configuration; ``None`` when resuming (taken from config.json).
        resume: continue the run in ``run``.
        device: ``cpu``, ``cuda`` or ``None`` (CUDA when available).
        deterministic: use deterministic algorithms (a resumed run then ends with the same weights).
        validation_fraction: share of the training subjects held out for validation.
        overwrite: allow starting a new run in a folder that holds data.
        progress: show a progress bar (default: on an interactive terminal).
        stop_after: stop after this many generator steps in this invocation, leaving a resumable run
            (for time-budgeted sessions; ``None`` trains to the end).
        split: subject ids per part (``train``, ``validation``, ``test``) of a new run, instead of the
            dataset's own split (experiments and cross-validation fix it for every run).
    """

    run: Path
    data: Path | None = None
    config: PscganConfig | None = None
    resume: bool = False
    device: str | None = None
    deterministic: bool = False
    validation_fraction: float = 0.1
    overwrite: bool = False
    progress: bool | None = None
    stop_after: int | None = None
    split: dict[str, list[str]] | None = None


def subject_split(data: Path, validation_fraction: float, seed: int) -> dict[str, list[str]]:
    """Train/validation/test subject ids from the dataset's split (validation held out of train)."""
    from pscgan.data.layout import MANIFEST_FILE, list_subject_folders, make_split, read_manifest

    if (data / MANIFEST_FILE).is_file():
        manifest = read_manifest(data)
        train = manifest.split.get("train", manifest.subjects if not manifest.split else [])
        test = manifest.split.get("test", [])
    else:
        train, test = [f.name for f in list_subject_folders(data)], []
    if not train:
        raise InputError(data / MANIFEST_FILE, "the split has no training subjects")
    val = (
        make_split(train, test_fraction=validation_fraction, seed=seed)["test"]
        if validation_fraction > 0
        else []
    )
    if len(val) == len(train):
        raise InputError(data, f"only {len(train)} training subjects: too few to hold out a validation set")
    return {"train": sorted(set(train) - set(val)), "validation": sorted(val), "test": sorted(test)}


def _resolve(opts: TrainOptions) -> tuple[PscganConfig, Path, dict[str, Any] | None]:
    from pscgan.training.run_folder import CONFIG_FILE, SPLIT_FILE

    if not opts.resume:
        if opts.config is None or opts.data is None:
            raise ConfigError(None, "a new run needs --data and a preset")
        return opts.config, opts.data, None
    if not (opts.run / CONFIG_FILE).is_file():
        raise InputError(opts.run, "nothing to resume: no config.json in this folder")
    saved = load_config(opts.run / CONFIG_FILE)
    if opts.config is not None and opts.config.model_dump() != saved.model_dump():
        raise ConfigError(opts.run / CONFIG_FILE, "the run was started with another configuration; resume "
                                                  "without --preset/--set, or start a new run folder")
    split = read_split(opts.run / SPLIT_FILE)
    data = opts.data or Path(split["dataset"])
    return saved, data, split


def read_split(path: Path) -> dict[str, Any]:
    """A run's ``split.json``: the dataset folder and the subject ids of each part, checked.

    Raises:
        InputError: missing, not JSON, or without ``dataset`` and ``train``/``validation`` id lists.
    """
    from pscgan.io.jsonfile import read_json

    split = read_json(path, expect=dict, what="run split")
    if not isinstance(split.get("dataset"), str) or not split["dataset"]:
        raise InputError(path, "names no dataset folder (\"dataset\"); give --data to resume")
    for part in ("train", "validation", "test"):
        ids = split.setdefault(part, []) if part == "test" else split.get(part)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise InputError(path, f"{part!r} must be a list of subject ids")
    return split


def run_training(opts: TrainOptions) -> Path:
    """Train (or resume) a run; returns the path of the final weights file."""
    import torch

    from pscgan.data.annotation import require_training_annotation
    from pscgan.data.cache import TrainingCache, ensure_cache
    from pscgan.data.layout import check_subject_ids, list_subject_folders
    from pscgan.data.protocol import planned_options, preprocess_options
    from pscgan.io.atomic import prepare_output_dir
    from pscgan.models.cascade import Cascade
    from pscgan.models.factory import check_parameter_count
    from pscgan.models.weights import save_weights
    from pscgan.training.distributed import barrier, init_distributed, shutdown
    from pscgan.training.run_folder import (
        CONFIG_FILE,
        ENV_FILE,
        SPLIT_FILE,
        environment_info,
        file_logger,
        log_sitting_start,
        resumed_environment,
        write_run_json,
    )
    from pscgan.training.resume_checks import check_split
    from pscgan.training.trainer import WEIGHTS_FILE, ProgressiveTrainer
    from pscgan.ui import progress_enabled

    config, data, split = _resolve(opts)
    # partial labels (no scar class, no LGE) need masked losses, which training does not have yet
    require_training_annotation(data)
    check_parameter_count(config, opts.run / CONFIG_FILE if opts.resume else None)
    check_subject_ids(data)  # training finds subjects by id: a renamed folder would train on nothing
    ctx = init_distributed(opts.device)
    try:
        if not opts.resume and ctx.is_main:
            prepare_output_dir(opts.run, overwrite=opts.overwrite)
        barrier(ctx)
        t = config.train
        if t.num_threads:
            torch.set_num_threads(t.num_threads)
        if opts.deterministic:
            torch.use_deterministic_algorithms(True)
        # the paper's protocol when train.register_lge: targets registered to the cine ED frame, labels
        # moving with them only when the dataset's labels were drawn on the LGE
        pre = preprocess_options(data, register_lge=config.train.register_lge, **planned_options(config))
        if ctx.is_main:
            ensure_cache(data, pre, fallback_dir=opts.run / CACHE_SUBDIR)
        barrier(ctx)
        cache = TrainingCache(ensure_cache(data, pre, fallback_dir=opts.run / CACHE_SUBDIR))
        if split is None:
            parts = opts.split or subject_split(data, opts.validation_fraction, t.seed)
            split = {"dataset": str(data.resolve()), **{k: sorted(v) for k, v in parts.items()}}
            if ctx.is_main:  # config.json last: its presence marks a resumable run (see _resolve)
                write_run_json(opts.run, SPLIT_FILE, split)
                config.save(opts.run / CONFIG_FILE)
        previous = _check_world_size(opts.run / ENV_FILE, ctx.world_size) if opts.resume else None
        if ctx.is_main:
            write_run_json(
                opts.run,
                ENV_FILE,
                resumed_environment(
                    previous,
                    environment_info(
                        seed=t.seed,
                        device=str(ctx.device),
                        world_size=ctx.world_size,
                        deterministic=opts.deterministic,
                    ),
                ),
            )
        check_split(opts.run / SPLIT_FILE if opts.resume else data, split,
                    {f.name for f in list_subject_folders(data)})
        train_idx, val_idx = cache.indices_of(split["train"]), cache.indices_of(split["validation"])
        logger = file_logger(opts.run, enabled=ctx.is_main)
        check_targets(cache, train_idx, data, logger)
        log_sitting_start(
            logger,
            opts.run,
            f"{len(train_idx)} training and {len(val_idx)} validation slices, "
            f"world size {ctx.world_size}, device {ctx.device}",
            resumed=opts.resume,
        )
        tb = _tensorboard(opts.run) if ctx.is_main else None
        show = ctx.is_main and (progress_enabled() if opts.progress is None else opts.progress)
        phases = phases_of(config)
        with _ProgressReporter(show, phases, t.phase_steps(len(phases))) as reporter:
            trainer = ProgressiveTrainer(config, opts.run, cache, train_idx, val_idx, ctx, reporter=reporter,
                                         logger=logger, tensorboard=tb, stop_after=opts.stop_after,
                                         split=split)
            generators = trainer.train()
        weights = opts.run / WEIGHTS_FILE
        if generators is None:
            logger.info(
                "stopped after %d steps; continue with `pscgan train --resume %s`", opts.stop_after, opts.run
            )
            if tb is not None:
                tb.close()
            return weights
        if ctx.is_main:
            save_weights(weights, Cascade(generators), config)
            logger.info("final weights written to %s", weights)
        if tb is not None:
            tb.close()
        barrier(ctx)
        return weights
    finally:
        shutdown(ctx)


def check_targets(cache: Any, train_idx: list[int], data: Path, logger: Any) -> None:
    """Refuse training slices without any segmentation labels or without any LGE (the cascade would learn
    nothing from them, silently); log how many lack either when some do.

    Raises:
        InputError: no training slice has labels, or none has an LGE.
    """
    import numpy as np

    n = len(train_idx)
    for key, file, role in (("has_labels", "labels.nii.gz", "the segmentations"), ("has_lge", "lge.nii.gz",
                                                                                   "the synthetic LGE")):
        have = int(np.asarray(cache.arrays[key])[train_idx].sum()) if n else 0
        if n and have == 0:
            raise InputError(data, f"no training subject has {file}: {role} cannot be learned; add them, or "
                                   "check the dataset with `pscgan data check`")
        if have < n:
            logger.warning("%d of %d training slices have no %s", n - have, n, file)


def _check_world_size(env_file: Path, world_size: int) -> dict[str, Any] | None:
    """Refuse to resume with another number of processes: the batch stream's position and the global
    batch depend on it, so the run would not continue where it stopped. Returns the run's environment
    record (None for an older run without one)."""
    from pscgan.io.jsonfile import non_finite, read_json

    if not env_file.is_file():
        return None
    previous = read_json(env_file, expect=dict, what="run environment")
    saved = previous.get("world_size", 1)
    bad = non_finite(previous)
    if bad is not None or type(saved) is not int or not isinstance(previous.get("resumes", []), list):
        what = bad or "world_size or resumes of the wrong type"
        raise InputError(env_file, f"not a run environment ({what}); cannot check the number of processes")
    if saved != world_size:
        raise ConfigError(
            env_file,
            f"the run was trained with {saved} process(es), this resume has {world_size}; "
            f"resume with --nproc_per_node matching the original run",
        )
    return previous


def phases_of(config: PscganConfig) -> tuple[Any, ...]:
    from pscgan.models.phase import phases_for

    return phases_for(progressive=config.model.progressive)


def _tensorboard(run: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional at run time; metrics.jsonl has everything
        return None
    return SummaryWriter(log_dir=str(run / "tensorboard"))


class _ProgressReporter:
    """A rich progress bar: phase, step, losses and ETA (rank 0 only)."""

    def __init__(self, enabled: bool, phases: tuple[Any, ...], steps: tuple[int, ...]) -> None:
        self.enabled, self.phases, self.steps = enabled, phases, steps
        self.total = sum(steps)
        self.progress: Any = None

    def __enter__(self) -> _ProgressReporter:
        if self.enabled:
            from rich.progress import Progress, TextColumn

            from pscgan.ui import progress_columns

            self.progress = Progress(*progress_columns(), TextColumn("{task.fields[losses]}"))
            self.progress.start()
            self.task = self.progress.add_task("training", total=self.total, losses="")
        return self

    def __call__(self, phase: Any, step: int, steps: int, record: dict[str, Any] | None) -> None:
        if self.progress is None:
            return
        index = self.phases.index(phase)
        losses = ""
        if record:
            losses = " ".join(f"{k}={v:.3f}" for k, v in record.items()
                              if k in ("g_total", "d_total", "val_score") and isinstance(v, float))
        self.progress.update(self.task, completed=min(sum(self.steps[:index]) + step, self.total),
                             description=f"phase {phase.value} {step}/{steps}",
                             **({"losses": losses} if losses else {}))

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.stop()

