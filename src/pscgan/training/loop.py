"""The one training loop: each phase of the cascade and each baseline trains through it.

StyleGAN2-ADA's training loop runs a list of phases, each with its networks, optimiser and losses. Here
each such unit is a :class:`~pscgan.training.task.Task` (it says what one step trains), and
:class:`TrainingLoop` trains one task to its end; :class:`~pscgan.training.trainer.ProgressiveTrainer`
runs the cascade's phases through it one after another, ``pscgan.baselines.train`` a baseline. The
loop owns what is the same for every task:

* the step counter and the batch stream (each rank its share of every epoch, resumable mid-epoch);
* ``metrics.jsonl`` (and ``train.log``, TensorBoard, a progress callback where given): every
  ``log_interval`` steps each loss averaged over every update since the previous record, averaged over
  ranks, and ``seconds_per_step``;
* validation every ``validation_interval`` steps and at the last step; the best validation weights,
  kept in memory and as a checkpoint, loaded back into the task when it ends;
* checkpoints every ``checkpoint_interval`` steps, at the last step and when ``stop_after`` ends the
  sitting, written atomically with modules, optimisers, random state, stream position and logging
  window, so a resumed run ends with the weights and records of an uninterrupted one;
* divergence recovery: a step with a NaN/inf loss or gradient goes back to the last checkpoint of the
  task (or its start) with a lower learning rate, after :mod:`pscgan.training.divergence`'s rule;
* distribution: the same seeded initial weights on every rank (and rank 0's broadcast), a seed of its
  own per rank for the draws of training, the ranks' losses averaged, only rank 0 writes.

How a run names its checkpoints and records is its :class:`~pscgan.training.loop_state.CheckpointLayout`;
what a resumed state must agree with besides its checksums is the run's ``check_resume``
(:mod:`pscgan.training.resume_checks`), called before anything of the checkpoint is loaded.

Example:
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from pscgan.training.distributed import single_process
    >>> from pscgan.training.divergence import DivergenceGuard
    >>> from pscgan.training.loop_state import TaskLayout
    >>> from pscgan.training.task import Task
    >>> class Fit(Task):
    ...     def __init__(self):
    ...         self.net = torch.nn.Linear(1, 1)
    ...         self.modules = self.best_modules = {"net": self.net}
    ...         self.optimizers = {"net": torch.optim.SGD(self.net.parameters(), lr=0.1)}
    ...     def step(self, batches, index):
    ...         loss = (self.net(next(batches)["x"]) - 1.0).pow(2).mean()
    ...         self.optimizers["net"].zero_grad(); loss.backward(); self.optimizers["net"].step()
    ...         return {"mse": loss.item()}
    >>> run, data = Path(tempfile.mkdtemp()), [{"x": torch.ones(1)}] * 4
    >>> plan = Schedule(steps=6, batch_size=2, checkpoint_interval=10)
    >>> where = {"run": run, "ctx": single_process(), "layout": TaskLayout(), "guard": DivergenceGuard()}
    >>> first = TrainingLoop(lambda resumed: Fit(), data, plan, stop_after=4, **where).run()
    >>> first.finished, sorted(p.name for p in (run / "checkpoints").iterdir())
    (False, ['latest.json', 'step_00000004'])
    >>> from pscgan.training.checkpoint import load_checkpoint
    >>> second = TrainingLoop(lambda resumed: Fit(), data, plan, **where).run(load_checkpoint(run))
    >>> second.finished, second.steps_done, second.state.step
    (True, 2, 6)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pscgan.training.checkpoint import (
    CHECKPOINT_DIR,
    Checkpoint,
    checkpoint_errors,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from pscgan.training.distributed import DistContext, barrier, rank_seed, reduce_mean
from pscgan.training.divergence import DivergenceGuard, NonFiniteStep, check_losses
from pscgan.training.gradients import broadcast_module
from pscgan.training.loop_state import CheckpointLayout, LoopState
from pscgan.training.rng import rng_state, seed_everything, set_rng_state
from pscgan.training.run_folder import METRICS_FILE, MetricsLog
from pscgan.training.stream import BatchStream, Samples
from pscgan.training.task import Task

KEEP_CHECKPOINTS = 2  # resumable states kept besides the protected ones (the best weights)

# (checkpoint, its loop state, its optimisers' state dicts) -> None, or InputError: see TrainingLoop
ResumeCheck = Callable[[Checkpoint, LoopState, dict[str, Any]], None]


@dataclass(frozen=True)
class Schedule:
    """How long a task trains and how often the loop logs, validates and checkpoints, in steps.

    Attributes:
        steps: steps of the task.
        batch_size: samples per batch, per rank.
        log_interval, validation_interval, checkpoint_interval: the last step does all three as well.
        seed: seeds the task's initial weights (equal on every rank) and, through
            :func:`~pscgan.training.distributed.rank_seed`, each rank's random draws while it trains.
        stream_seed: seeds the batch order (``None``: ``seed``).
        lr_schedule: ``constant``, or ``poly``: the learning rate times :func:`lr_factor` of the step.
        symmetry_probability: probability that a training sample is turned and/or mirrored
            (:mod:`pscgan.training.augmentation`).
        ed_shift_frames: largest cyclic shift of a training sample's cine frames either way (0: none).
    """

    steps: int
    batch_size: int
    log_interval: int = 1
    validation_interval: int = 1
    checkpoint_interval: int = 1
    seed: int = 0
    stream_seed: int | None = None
    lr_schedule: str = "constant"
    symmetry_probability: float = 0.0
    ed_shift_frames: int = 0


def lr_factor(schedule: str, step: int, steps: int) -> float:
    """The learning rate's multiplier at ``step`` (0-based) of ``steps``: 1, or ``(1 - step/steps)**0.9``.

    A function of the step alone, so a resumed run continues the schedule exactly.

    Example:
        >>> lr_factor("constant", 5, 10), round(lr_factor("poly", 5, 10), 3), lr_factor("poly", 0, 10)
        (1.0, 0.536, 1.0)
    """
    if schedule == "constant":
        return 1.0
    if schedule == "poly":
        return (1.0 - step / steps) ** 0.9
    raise ValueError(f"unknown learning-rate schedule {schedule!r}")


@dataclass
class LoopResult:
    """How a call of :meth:`TrainingLoop.run` ended.

    Attributes:
        task: the task; when ``finished``, its best modules hold the best validation weights (the last
            ones without validation).
        state: the final loop state.
        steps_done: steps run in this call (a step run again after a recovery counts again).
        finished: the task reached its last step.
        budget_spent: ``stop_after`` ended this call (also when that was the last step).
    """

    task: Task
    state: LoopState
    steps_done: int
    finished: bool
    budget_spent: bool


class TrainingLoop:
    """Trains one task to its end, or until ``stop_after`` steps, writing into the run folder.

    Args:
        build: returns the task with fresh modules and optimisers; called after seeding (so every call
            builds the same initial weights), with ``True`` when a checkpoint is about to be loaded into it
            (a warm start from other weights is then pointless).
        data: the training samples (the loop draws the batches).
        schedule: length, intervals and seeds.
        run: the run folder.
        ctx: distributed context.
        layout: how the run stores the loop state and names checkpoints and records.
        guard: the divergence recovery policy.
        logger: ``train.log``'s logger: each record as a line, divergence warnings.
        tensorboard: a ``SummaryWriter``; each numeric field of a record as ``<task>/<field>``.
        on_step: called on rank 0 after every step with the step and its record (or ``None``).
        stop_after: stop, with a checkpoint, after this many steps in this call.
        check_resume: called with the checkpoint given to :meth:`run`, its unpacked loop state and its
            optimisers' state dicts before any of it is restored; raises
            :class:`~pscgan.errors.InputError` when the state does not fit the run (a ``state.json``
            edited with its checksum recomputed). The cascade checks its whole state before it rebuilds
            its frozen phases (:meth:`~pscgan.training.trainer.ProgressiveTrainer.train`), so it passes
            none.
    """

    def __init__(self, build: Callable[[bool], Task], data: Samples, schedule: Schedule, *, run: Path,
                 ctx: DistContext, layout: CheckpointLayout, guard: DivergenceGuard, logger: Any = None,
                 tensorboard: Any = None, on_step: Callable[[int, dict[str, Any] | None], None] | None = None,
                 stop_after: int | None = None, check_resume: ResumeCheck | None = None) -> None:
        self.build, self.data, self.schedule = build, data, schedule
        self.run_dir, self.ctx, self.layout, self.guard = Path(run), ctx, layout, guard
        self.logger, self.tb, self.on_step, self.stop_after = logger, tensorboard, on_step, stop_after
        self.check_resume = check_resume
        self.metrics = MetricsLog(self.run_dir / METRICS_FILE)
        self.best_weights: dict[str, dict[str, torch.Tensor]] | None = None
        self.steps_done = 0
        self.budget_spent = False

    def run(self, resume: Checkpoint | None = None) -> LoopResult:
        """Train from ``resume`` (a checkpoint of this task) or from the start, to the end or the budget.

        Raises:
            InputError: ``resume`` does not fit this task.
            DivergenceError: the task kept diverging although its learning rate was lowered.
        """
        state = self._unpack(resume) if resume is not None else LoopState()
        if resume is not None:
            self._sync_metrics(state)
        checkpoint, recovered = resume, False
        while True:
            task, stream = self._setup(state, checkpoint)
            if recovered:  # the restore point again, now with the lowered learning rate
                barrier(self.ctx)  # every rank has read the checkpoint before rank 0 replaces it
                self._checkpoint(state, task)
                self._sync_metrics(state)
            try:
                self._train(state, task, stream)
                break
            except NonFiniteStep as exc:
                state, checkpoint = self._recover(state, task, exc)
                recovered = True
        finished = state.step >= self.schedule.steps
        if finished:
            barrier(self.ctx)
            self._load_best(state, task)
        return LoopResult(task, state, self.steps_done, finished, self.budget_spent)

    # -- state in and out of checkpoints ---------------------------------------------------------------
    def _unpack(self, checkpoint: Checkpoint) -> LoopState:
        with checkpoint_errors(checkpoint.path):
            unpacked = self.layout.unpack(checkpoint.state)
            if unpacked is None:
                raise ValueError("it is another task's checkpoint")
            state = unpacked[0]
            if not 0 <= state.step <= self.schedule.steps:
                raise ValueError(f"step {state.step} is outside this run")
            if self.check_resume is not None:
                self.check_resume(checkpoint, state, unpacked[1])
        return state

    def _setup(self, state: LoopState, checkpoint: Checkpoint | None) -> tuple[Task, BatchStream]:
        """The task and its batch stream: fresh, or as saved in ``checkpoint``."""
        s, ctx = self.schedule, self.ctx
        seed_everything(s.seed)  # the same initial weights on every rank; broadcast to be sure
        task = self.build(checkpoint is not None)
        for module in task.modules.values():
            broadcast_module(module, ctx)
        base_lrs = [[g["lr"] for g in opt.param_groups] for opt in task.optimizers.values()]
        stream = BatchStream(self.data, s.batch_size, seed=s.seed if s.stream_seed is None else s.stream_seed,
                             rank=ctx.rank, world_size=ctx.world_size,
                             symmetry_probability=s.symmetry_probability, ed_shift_frames=s.ed_shift_frames)
        seed_everything(rank_seed(s.seed, ctx.rank))
        if checkpoint is not None:
            with checkpoint_errors(checkpoint.path):
                unpacked = self.layout.unpack(checkpoint.state)
                assert unpacked is not None  # checked by _unpack and _recover
                for name, module in task.modules.items():
                    module.load_state_dict(checkpoint.module_state(name))
                for name, opt in task.optimizers.items():
                    opt.load_state_dict(unpacked[1][name])
                stream.load_state_dict(state.stream)
                set_rng_state(checkpoint.state["rng"])
            if ctx.rank > 0:  # the checkpoint holds rank 0's generators: the others draw their own again
                seed_everything(rank_seed(s.seed, ctx.rank) + state.step)
        self._base_lrs = base_lrs  # before a checkpoint's optimizer state overwrote them
        self._set_lr(state, task)
        task.train()
        return task, stream

    def _set_lr(self, state: LoopState, task: Task) -> None:
        """The configured rates, times the divergence recovery's scale and the schedule's factor."""
        s = self.schedule
        factor = state.divergence.lr_scale * lr_factor(s.lr_schedule, state.step, s.steps)
        for opt, lrs in zip(task.optimizers.values(), self._base_lrs):
            for group, lr in zip(opt.param_groups, lrs):
                group["lr"] = lr * factor

    def _checkpoint(self, state: LoopState, task: Task) -> None:
        if not self.ctx.is_main:
            return
        optimizers = {name: opt.state_dict() for name, opt in task.optimizers.items()}
        payload = self.layout.pack(state, optimizers, rng_state())
        save_checkpoint(self.run_dir, f"step_{self.layout.step_offset + state.step:08d}",
                        modules=self.layout.modules(task), state=payload, keep_last=KEEP_CHECKPOINTS,
                        protect=self.layout.protect)

    # -- the steps -------------------------------------------------------------------------------------
    def _train(self, state: LoopState, task: Task, stream: BatchStream) -> None:
        s, ctx = self.schedule, self.ctx
        clock, timed = time.perf_counter(), 0
        while state.step < s.steps:
            if s.lr_schedule != "constant":
                self._set_lr(state, task)
            logs = task.step(stream, state.step)
            check_losses(logs, ctx)  # the same rule for a task whose updates do not check themselves
            state.log_window.add(logs)
            state.step += 1
            state.stream = stream.state_dict()
            step, timed, last = state.step, timed + 1, state.step == s.steps
            record: dict[str, Any] | None = None
            if step % s.log_interval == 0 or last:
                now = time.perf_counter()
                means = reduce_mean(state.log_window.means(), ctx)  # every update since the last record
                state.log_window.clear()
                record = {**self._head(step), **means, "seconds_per_step": (now - clock) / timed}
                clock, timed = now, 0
            if step % s.validation_interval == 0 or last:
                record = self._validate(state, task, record)
            if record is not None and ctx.is_main:
                self._write(record, task.name)
            if self.on_step is not None and ctx.is_main:
                self.on_step(step, record)
            self.steps_done += 1
            self.budget_spent = self.stop_after is not None and self.steps_done >= self.stop_after
            if step % s.checkpoint_interval == 0 or last or self.budget_spent:
                self.guard.reached_checkpoint(state.divergence)
                self._checkpoint(state, task)
            if self.budget_spent:
                barrier(ctx)
                return

    def _head(self, step: int) -> dict[str, Any]:
        return {"step": self.layout.step_offset + step, **self.layout.tags(step)}

    def _validate(self, state: LoopState, task: Task, record: dict[str, Any] | None) -> dict[str, Any] | None:
        metrics = task.validate()
        if metrics is None:
            return record
        record = (record or self._head(state.step)) | {f"val_{k}": v for k, v in metrics.items()}
        if state.best is None or metrics["score"] > state.best["score"]:
            state.best = {"score": metrics["score"], "step": state.step}
            self._save_best(state, task)
        if self.ctx.is_main:
            task.save_samples(state.step)
        return record

    def _write(self, record: dict[str, Any], name: str) -> None:
        self.metrics.write(record)
        if self.tb is not None:
            for k, v in record.items():
                if isinstance(v, (int, float)) and k != "step":
                    self.tb.add_scalar(f"{name}/{k}", v, record["step"])
        if self.logger is not None:
            self.logger.info(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                      for k, v in record.items()))

    # -- best weights ----------------------------------------------------------------------------------
    def _save_best(self, state: LoopState, task: Task) -> None:
        # Every rank holds identical weights (gradients are averaged), so each keeps its own copy in
        # memory; rank 0 also writes it, for resumed runs and for inspection.
        self.best_weights = {name: {k: v.detach().clone() for k, v in m.state_dict().items()}
                             for name, m in task.best_modules.items()}
        if self.ctx.is_main:
            save_checkpoint(self.run_dir, self.layout.best_name, modules=task.best_modules,
                            state=dict(state.best or {}), update_latest=False)

    def _load_best(self, state: LoopState, task: Task) -> None:
        """The best validation weights into the task's best modules (the last ones without validation)."""
        if self.best_weights is not None:
            for name, module in task.best_modules.items():
                module.load_state_dict(self.best_weights[name])
        elif state.best is not None:  # resumed after the best was found: read it back
            best = load_checkpoint(self.run_dir / CHECKPOINT_DIR / self.layout.best_name,
                                   map_location=self.ctx.device)
            for name, module in task.best_modules.items():
                module.load_state_dict(best.module_state(name))

    # -- recovery --------------------------------------------------------------------------------------
    def _recover(self, state: LoopState, task: Task, exc: NonFiniteStep
                 ) -> tuple[LoopState, Checkpoint | None]:
        """The state to go back to after a non-finite step: the task's last checkpoint, or its start."""
        offset = self.layout.step_offset
        failed = offset + state.step + 1
        path = latest_checkpoint(self.run_dir)
        checkpoint = load_checkpoint(path, map_location=self.ctx.device) if path is not None else None
        unpacked = None
        if checkpoint is not None:
            with checkpoint_errors(checkpoint.path):
                unpacked = self.layout.unpack(checkpoint.state)
        restored = unpacked[0] if unpacked is not None else LoopState()
        # Validated best weights stay (they were finite); the failure count and lowered rate carry on.
        restored.best, restored.divergence = state.best, state.divergence
        event = self.guard.record(restored.divergence, phase=task.name, failed_step=failed,
                                  restored_step=offset + restored.step, reason=exc.reason)
        if self.logger is not None:
            self.logger.warning("non-finite step %d (phase %s: %s): restored step %d, learning rate "
                                "lowered to %.3g (retry %d of %d)", failed, task.name, exc.reason,
                                event["step"], event["lr"], event["retry"], self.guard.max_retries)
        return restored, checkpoint if unpacked is not None else None

    def _sync_metrics(self, state: LoopState) -> None:
        """Drop records logged after the restored step (they are logged again) and re-log any divergence
        event the checkpoint knows of but the metrics file lost."""
        if not self.ctx.is_main:
            return
        self.metrics.truncate_after(self.layout.step_offset + state.step)
        logged = self.metrics.read()
        for event in state.divergence.events:
            if event not in logged:
                self.metrics.write(event)
