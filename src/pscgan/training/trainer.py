"""Progressive training of the cascade: a list of phases, each with its own networks, optimizers,
losses, D:G ratio and length (StyleGAN2-ADA's "phases", without its pickles).

Phase I trains the coarse-mask GAN; it is then frozen with its best validation weights and its masks
condition phase II; phase III is conditioned on phase II's LGE in the same way (section 3 of the
paper); with ``train.warm_start_segmentation`` phase III starts from phase I's generator
(:mod:`pscgan.training.warm_start`). Each phase is a task (:class:`~pscgan.training.phase_task.PhaseTask`)
trained by the one training loop (:mod:`pscgan.training.loop`), which checkpoints the whole training
state every ``checkpoint_interval`` generator steps, so a run resumes exactly where it stopped, also in
the middle of a phase, and recovers from a NaN/inf step by going back to its last checkpoint with a
lower learning rate. The run folder's layout is :mod:`pscgan.training.phase_layout`.

Training is started by :func:`pscgan.training.launch.run_training` (``pscgan train``), which builds the
cache and the run folder and hands them to :class:`ProgressiveTrainer`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from pscgan.config.schema import PscganConfig
from pscgan.errors import ConfigError, InputError
from pscgan.models.generator import Generator
from pscgan.models.phase import Phase, phases_for
from pscgan.training.checkpoint import Checkpoint, checkpoint_errors, latest_checkpoint, load_checkpoint
from pscgan.training.distributed import DistContext
from pscgan.training.divergence import DivergenceGuard
from pscgan.training.loop import Schedule, TrainingLoop
from pscgan.training.phase_layout import PhaseLayout, TrainState
from pscgan.training.phase_task import PhaseNets, PhaseTask, build_phase
from pscgan.training.resume_checks import check_cascade_resume, split_digest
from pscgan.training.run_folder import METRICS_FILE, MetricsLog

__all__ = ["WEIGHTS_FILE", "PhaseNets", "ProgressiveTrainer", "TrainState", "build_phase"]

WEIGHTS_FILE = "model.safetensors"


class ProgressiveTrainer:
    """Trains every phase of ``config`` on a training cache, writing into ``run``.

    Args:
        config: the resolved configuration (saved as the run's config.json by the caller).
        run: run folder.
        cache: the training cache (:class:`pscgan.data.cache.TrainingCache`).
        train_indices: cache indices used for training.
        val_indices: cache indices used for validation (held-out training subjects).
        ctx: distributed context.
        reporter: called with ``(phase, phase_step, phase_steps, record or None)`` after each step
            (progress bar on rank 0).
        logger: ``train.log``'s logger.
        tensorboard: a ``SummaryWriter``, or ``None``.
        stop_after: stop, with a checkpoint, after this many generator steps in this process.
        split: the run's split (``split.json``): its digest is saved in every checkpoint, and a resume
            must find the same split (:mod:`pscgan.training.resume_checks`).
    """

    def __init__(self, config: PscganConfig, run: Path, cache: Any, train_indices: list[int],
                 val_indices: list[int], ctx: DistContext, reporter: Any = None, logger: Any = None,
                 tensorboard: Any = None, stop_after: int | None = None,
                 split: dict[str, Any] | None = None) -> None:
        if not train_indices:
            raise InputError(run, "no training slices")
        self.config, self.run, self.cache, self.ctx = config, Path(run), cache, ctx
        self.train_indices, self.val_indices = train_indices, val_indices
        self.phases = phases_for(progressive=config.model.progressive)
        self.steps = config.train.phase_steps(len(self.phases))  # generator steps of each phase
        self.metrics = MetricsLog(self.run / METRICS_FILE)
        self.reporter, self.logger, self.tb = reporter, logger, tensorboard
        self.frozen: dict[Phase, Generator] = {}
        t = config.train
        self.guard = DivergenceGuard(t.divergence_retries, t.divergence_lr_factor, base_lr=t.lr, run=self.run)
        self.best: dict[str, dict[str, float]] = {}  # each finished phase's best validation (score, step)
        # Stop (with a checkpoint) after this many generator steps in this process: budgeted sessions.
        self.stop_after = stop_after
        # the run's split: its digest goes into every checkpoint, and a resume must find the same one
        self.split = split
        self.steps_done = 0
        self.stopped = False

    # -- the phases ----------------------------------------------------------------------------------
    def train(self) -> dict[Phase, Generator] | None:
        """Run (or resume) every phase; returns the trained generators in cascade order, or ``None``
        when ``stop_after`` ended this session early (the run is then resumable)."""
        start, checkpoint = self._restore()
        for index in range(start, len(self.phases)):
            generator = self._train_phase(index, checkpoint if index == start else None)
            if generator is None:
                self.stopped = True
                return None
            self.frozen[self.phases[index]] = generator.eval().requires_grad_(False)
        return dict(self.frozen)

    def _restore(self) -> tuple[int, Checkpoint | None]:
        """The phase to start at and the checkpoint to resume it from; rebuilds the frozen phases before
        it."""
        if latest_checkpoint(self.run) is None:
            return 0, None
        ck = load_checkpoint(self.run, map_location=self.ctx.device)
        if not isinstance(ck.state, dict) or not isinstance(ck.state.get("train"), dict):
            raise InputError(ck.path / "state.json", "not a resumable training checkpoint")
        with checkpoint_errors(ck.path):
            state = TrainState.from_dict(ck.state["train"])
            if not all(type(v) is int for v in (state.phase_index, state.phase_step)) or not (
                    0 <= state.phase_index < len(self.phases)
                    and 0 <= state.phase_step <= self.steps[state.phase_index]):
                raise ValueError(f"phase {state.phase_index} step {state.phase_step} is outside this run")
        # type-valid is not enough: state.json edited with its checksum recomputed must still fit the run
        check_cascade_resume(ck, state, self.config, n_train=len(self.train_indices),
                             world_size=self.ctx.world_size, split=self.split)
        with checkpoint_errors(ck.path):
            self.best = dict(state.best)
            for p in self.phases[: state.phase_index]:
                g = build_phase(self.config, p, self.ctx.device).generator
                g.load_state_dict(ck.module_state(f"{p.value}.generator"))
                self.frozen[p] = g.eval().requires_grad_(False)
        return state.phase_index, ck

    def _train_phase(self, index: int, resume: Checkpoint | None) -> Generator | None:
        """Train phase ``index`` through the loop; its generator with the best validation weights, or
        ``None`` when the step budget ended this session."""
        from pscgan.training.conditions import CacheSamples, Subset, upstream_conditions

        phase, ctx, t = self.phases[index], self.ctx, self.config.train
        conditions = upstream_conditions(phase, self.frozen, CacheSamples(self.cache),
                                         self.train_indices + self.val_indices, device=ctx.device)
        samples = CacheSamples(self.cache, conditions)
        # Each rank validates its share; the metrics gather the shares, so every slice counts once.
        shard = self.val_indices[ctx.rank::ctx.world_size] if len(self.val_indices) >= ctx.world_size else []
        val = Subset(samples, shard) if shard else None

        def build(resumed: bool) -> PhaseTask:
            nets = build_phase(self.config, phase, ctx.device)
            if not resumed and phase is Phase.SEGMENTATION and t.warm_start_segmentation:
                self._warm_start(nets.generator)
            return PhaseTask(self.config, nets, ctx, val, samples=self.run / "samples")

        def report(step: int, record: dict[str, Any] | None) -> None:
            self.reporter(phase, step, self.steps[index], record)

        schedule = Schedule(steps=self.steps[index], batch_size=t.batch_size, log_interval=t.log_interval,
                            validation_interval=t.validation_interval,
                            checkpoint_interval=t.checkpoint_interval,
                            seed=t.seed + index, stream_seed=t.seed + 1000 * index,
                            lr_schedule=t.lr_schedule.value, symmetry_probability=t.dihedral_augmentation,
                            ed_shift_frames=t.ed_shift_augmentation)
        layout = PhaseLayout(phase, index, sum(self.steps[:index]), self.phases, frozen=self.frozen,
                             earlier_best=self.best,
                             split_sha256=split_digest(self.split) if self.split is not None else None)
        budget = None if self.stop_after is None else self.stop_after - self.steps_done
        loop = TrainingLoop(build, Subset(samples, self.train_indices), schedule, run=self.run, ctx=ctx,
                            layout=layout, guard=self.guard, logger=self.logger, tensorboard=self.tb,
                            on_step=report if self.reporter is not None else None, stop_after=budget)
        result = loop.run(resume)
        self.steps_done += result.steps_done
        if result.state.best is not None:
            self.best[phase.value] = result.state.best
        if result.budget_spent:
            return None
        assert isinstance(result.task, PhaseTask)
        return result.task.generator

    def _warm_start(self, generator: torch.nn.Module) -> None:
        """Phase III starts from phase I's frozen (best) generator (``train.warm_start_segmentation``)."""
        from pscgan.training.warm_start import warm_start

        if Phase.COARSE not in self.frozen:
            raise ConfigError(None, "train.warm_start_segmentation needs phase I trained before phase III")
        record = warm_start(generator, self.frozen[Phase.COARSE])
        if self.logger is not None:
            self.logger.info("phase segmentation starts from phase coarse's generator: %s", record.summary())
