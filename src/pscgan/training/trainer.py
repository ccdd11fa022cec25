"""Progressive training of the cascade: a list of phases, each with its own networks, optimizers,
losses, D:G ratio and length (StyleGAN2-ADA's "phases", without its pickles).

Phase I trains the coarse-mask GAN; it is then frozen with its best validation weights and its masks
condition phase II; phase III is conditioned on phase II's LGE in the same way (section 3 of the
paper); with ``train.warm_start_segmentation`` phase III starts from phase I's generator
(:mod:`pscgan.training.warm_start`). Every ``checkpoint_interval`` generator steps the whole training
state is checkpointed, so a run resumes exactly where it stopped, also in the middle of a phase. A
step that produces a NaN/inf loss or gradient is not applied: the phase goes back to its last
checkpoint with a lower learning rate (:mod:`pscgan.training.divergence`).

Training is started by :func:`pscgan.training.launch.run_training` (``pscgan train``), which builds the
cache and the run folder and hands them to :class:`ProgressiveTrainer`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from pscgan.config.schema import AdversarialLoss, PscganConfig
from pscgan.errors import ConfigError, InputError
from pscgan.models.phase import Phase, phases_for
from pscgan.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from pscgan.training.distributed import DistContext, barrier, rank_seed, reduce_mean
from pscgan.training.divergence import DivergenceGuard, DivergenceState, NonFiniteStep, set_learning_rate
from pscgan.training.gradients import broadcast_module
from pscgan.training.log_window import LogWindow
from pscgan.training.resume_checks import check_cascade_resume, split_digest
from pscgan.training.rng import rng_state, seed_everything, set_rng_state
from pscgan.training.run_folder import MetricsLog
from pscgan.training.stream import BatchStream

WEIGHTS_FILE = "model.safetensors"


@dataclass
class PhaseNets:
    """The networks and optimizers of the phase being trained."""

    phase: Phase
    generator: torch.nn.Module
    discriminator: torch.nn.Module | None
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer | None


@dataclass
class TrainState:
    """Where training stands; everything here goes into each checkpoint."""

    phase_index: int = 0
    phase_step: int = 0
    stream: dict[str, int] = field(default_factory=lambda: {"epoch": 0, "position": 0})
    best: dict[str, dict[str, float]] = field(default_factory=dict)
    divergence: DivergenceState = field(default_factory=DivergenceState)
    log_window: LogWindow = field(default_factory=LogWindow)

    def global_step(self, steps_per_phase: int) -> int:
        return self.phase_index * steps_per_phase + self.phase_step

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainState:
        data = dict(data)  # checkpoints written before divergence recovery existed have no "divergence"
        divergence = DivergenceState(**(data.pop("divergence", None) or {}))
        window = LogWindow.from_dict(data.pop("log_window", None))  # absent in older checkpoints
        return cls(**data, divergence=divergence, log_window=window)


@contextlib.contextmanager
def checkpoint_errors(path: Path) -> Iterator[None]:
    """Turn a checkpoint whose content does not fit this run into one InputError naming its state.json.

    Its checksums only prove the files are as written: ``state.json`` edited with its checksum recomputed
    can hold any skeleton, step or optimiser state, and restoring it fails in torch or in our own code.
    """
    try:
        yield
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            Path(path) / "state.json",
            f"checkpoint state does not fit this run ({first[:200]}); resume from an earlier checkpoint",
        ) from None


def build_phase(config: PscganConfig, phase: Phase, device: torch.device) -> PhaseNets:
    from pscgan.models.factory import build_discriminator, build_generator

    g = build_generator(config, phase).to(device)
    adversarial = config.loss.adversarial is not AdversarialLoss.NONE
    d = build_discriminator(config, phase).to(device) if adversarial else None
    t = config.train
    opt_g = torch.optim.Adam(g.parameters(), lr=t.lr, betas=t.betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=t.lr, betas=t.betas) if d is not None else None
    return PhaseNets(phase, g, d, opt_g, opt_d)


def _phase_modules(nets: PhaseNets) -> dict[str, torch.nn.Module]:
    mods = {f"{nets.phase.value}.generator": nets.generator}
    if nets.discriminator is not None:
        mods[f"{nets.phase.value}.discriminator"] = nets.discriminator
    return mods


class ProgressiveTrainer:
    """Trains every phase of ``config`` on a training cache, writing into ``run``.

    Args:
        config: the resolved configuration (saved as the run's config.json by the caller).
        run: run folder.
        cache: the training cache (:class:`pscgan.data.cache.TrainingCache`).
        train_indices: cache indices used for training.
        val_indices: cache indices used for validation (held-out training subjects).
        ctx: distributed context.
        reporter: called with ``(phase, phase_step, steps_per_phase, metrics)`` after each logged step
            (progress bar on rank 0).
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
        self.steps = config.train.steps_per_phase
        self.metrics = MetricsLog(self.run / "metrics.jsonl")
        self.reporter, self.logger, self.tb = reporter, logger, tensorboard
        self.frozen: dict[Phase, torch.nn.Module] = {}
        t = config.train
        self.guard = DivergenceGuard(t.divergence_retries, t.divergence_lr_factor, base_lr=t.lr, run=self.run)
        self.best_weights: dict[Phase, dict[str, torch.Tensor]] = {}
        # Stop (with a checkpoint) after this many generator steps in this process: budgeted sessions.
        self.stop_after = stop_after
        # the run's split: its digest goes into every checkpoint, and a resume must find the same one
        self.split = split
        self.steps_done = 0
        self.stopped = False

    # -- checkpoints ---------------------------------------------------------------------------------
    def _checkpoint(self, state: TrainState, nets: PhaseNets) -> None:
        if not self.ctx.is_main:
            return
        modules = {f"{p.value}.generator": g for p, g in self.frozen.items()} | _phase_modules(nets)
        payload = {"train": state.to_dict(), "rng": rng_state(),
                   "opt_g": nets.opt_g.state_dict(),
                   "opt_d": nets.opt_d.state_dict() if nets.opt_d is not None else None}
        if self.split is not None:
            payload["split_sha256"] = split_digest(self.split)
        name = f"step_{state.global_step(self.steps):08d}"
        protect = {f"best_{p.value}" for p in self.phases}
        save_checkpoint(self.run, name, modules=modules, state=payload, keep_last=2, protect=protect)

    def _save_best(self, nets: PhaseNets) -> None:
        # Every rank holds identical weights (gradients are averaged), so each keeps its own copy in
        # memory; rank 0 also writes it, for resumed runs and for inspection.
        self.best_weights[nets.phase] = {
            k: v.detach().clone() for k, v in nets.generator.state_dict().items()
        }
        if self.ctx.is_main:
            save_checkpoint(self.run, f"best_{nets.phase.value}",
                            modules={f"{nets.phase.value}.generator": nets.generator}, state={},
                            update_latest=False)

    def _sync_metrics(self, state: TrainState) -> None:
        """Drop records logged after the restored step (they are logged again) and re-log any divergence
        event the checkpoint knows of but the metrics file lost."""
        if not self.ctx.is_main:
            return
        self.metrics.truncate_after(state.global_step(self.steps))
        logged = self.metrics.read()
        for event in state.divergence.events:
            if event not in logged:
                self.metrics.write(event)

    def _restore(self) -> tuple[TrainState, dict[str, Any] | None]:
        if latest_checkpoint(self.run) is None:
            return TrainState(), None
        ck = load_checkpoint(self.run, map_location=self.ctx.device)
        if not isinstance(ck.state, dict) or not isinstance(ck.state.get("train"), dict):
            raise InputError(ck.path / "state.json", "not a resumable training checkpoint")
        with checkpoint_errors(ck.path):
            state = TrainState.from_dict(ck.state["train"])
            if not all(type(v) is int for v in (state.phase_index, state.phase_step)) or not (
                    0 <= state.phase_index < len(self.phases) and 0 <= state.phase_step <= self.steps):
                raise ValueError(f"phase {state.phase_index} step {state.phase_step} is outside this run")
        # type-valid is not enough: state.json edited with its checksum recomputed must still fit the run
        check_cascade_resume(ck, state, self.config, n_train=len(self.train_indices),
                             world_size=self.ctx.world_size, split=self.split)
        with checkpoint_errors(ck.path):
            for p in self.phases[: state.phase_index]:
                g = build_phase(self.config, p, self.ctx.device).generator
                g.load_state_dict(ck.module_state(f"{p.value}.generator"))
                self.frozen[p] = g.eval().requires_grad_(False)
        return state, {"checkpoint": ck}

    # -- the loop ------------------------------------------------------------------------------------
    def train(self) -> dict[Phase, torch.nn.Module] | None:
        """Run (or resume) every phase; returns the trained generators in cascade order, or ``None``
        when ``stop_after`` ended this session early (the run is then resumable)."""
        state, restored = self._restore()
        if restored is not None:
            self._sync_metrics(state)
        for index in range(state.phase_index, len(self.phases)):
            phase = self.phases[index]
            resume = restored if (restored is not None and index == state.phase_index) else None
            if resume is None and index != state.phase_index:
                state = TrainState(phase_index=index, best=state.best)
            self._train_phase(phase, state, resume)
            restored = None
            if self.stopped:
                return None
        return dict(self.frozen)

    def _train_phase(self, phase: Phase, state: TrainState, resume: dict[str, Any] | None) -> None:
        from pscgan.training.conditions import CacheSamples, Subset, upstream_conditions

        ctx = self.ctx
        conditions = upstream_conditions(phase, self.frozen, CacheSamples(self.cache),
                                         self.train_indices + self.val_indices, device=ctx.device)
        samples = CacheSamples(self.cache, conditions)
        # Each rank validates its share; the metrics gather the shares, so every slice counts once.
        shard = self.val_indices[ctx.rank::ctx.world_size] if len(self.val_indices) >= ctx.world_size else []
        val = Subset(samples, shard) if shard else None
        recovered = False
        while True:
            nets, stream = self._setup(phase, state, Subset(samples, self.train_indices), resume)
            if recovered:  # the restore point again, now with the lowered learning rate
                barrier(ctx)  # every rank has read the checkpoint before rank 0 replaces it
                self._checkpoint(state, nets)
                self._sync_metrics(state)
            try:
                self._run_steps(phase, state, nets, stream, val)
                break
            except NonFiniteStep as exc:
                state, resume = self._recover(phase, state, exc)
                recovered = True
        if self.stopped:
            return
        barrier(ctx)
        # Freeze the phase with its best validation weights (or the last ones without validation).
        if phase in self.best_weights:
            nets.generator.load_state_dict(self.best_weights[phase])
        elif phase.value in state.best:  # resumed after the best was found: read it back
            best = load_checkpoint(self.run / "checkpoints" / f"best_{phase.value}", map_location=ctx.device)
            nets.generator.load_state_dict(best.module_state(f"{phase.value}.generator"))
        self.frozen[phase] = nets.generator.eval().requires_grad_(False)

    def _setup(self, phase: Phase, state: TrainState, train_set: Any, resume: dict[str, Any] | None
               ) -> tuple[PhaseNets, BatchStream]:
        """The phase's networks, optimizers and batch stream: fresh, or as saved in ``resume``."""
        cfg, t, ctx = self.config, self.config.train, self.ctx
        # Same initial weights on every rank: seed by the run seed and phase, then broadcast.
        seed_everything(t.seed + state.phase_index)
        nets = build_phase(cfg, phase, ctx.device)
        if resume is None and phase is Phase.SEGMENTATION and t.warm_start_segmentation:
            self._warm_start(nets.generator)
        broadcast_module(nets.generator, ctx)
        if nets.discriminator is not None:
            broadcast_module(nets.discriminator, ctx)
        stream = BatchStream(train_set, t.batch_size, seed=t.seed + 1000 * state.phase_index,
                             rank=ctx.rank, world_size=ctx.world_size)
        seed_everything(rank_seed(t.seed + state.phase_index, ctx.rank))
        if resume is not None:
            ck = resume["checkpoint"]
            with checkpoint_errors(ck.path):
                nets.generator.load_state_dict(ck.module_state(f"{phase.value}.generator"))
                if nets.discriminator is not None:
                    nets.discriminator.load_state_dict(ck.module_state(f"{phase.value}.discriminator"))
                    nets.opt_d.load_state_dict(ck.state["opt_d"])
                nets.opt_g.load_state_dict(ck.state["opt_g"])
                stream.load_state_dict(state.stream)
                set_rng_state(ck.state["rng"])
            if ctx.rank > 0:  # the checkpoint holds rank 0's generators: the others draw their own again
                seed_everything(rank_seed(t.seed + state.phase_index, ctx.rank) + state.phase_step)
        set_learning_rate((nets.opt_g, nets.opt_d), t.lr * state.divergence.lr_scale)
        nets.generator.train()
        return nets, stream

    def _warm_start(self, generator: torch.nn.Module) -> None:
        """Phase III starts from phase I's frozen (best) generator (``train.warm_start_segmentation``)."""
        from pscgan.training.warm_start import warm_start

        if Phase.COARSE not in self.frozen:
            raise ConfigError(None, "train.warm_start_segmentation needs phase I trained before phase III")
        record = warm_start(generator, self.frozen[Phase.COARSE])
        if self.logger is not None:
            self.logger.info("phase segmentation starts from phase coarse's generator: %s", record.summary())

    def _recover(self, phase: Phase, state: TrainState, exc: NonFiniteStep
                 ) -> tuple[TrainState, dict[str, Any] | None]:
        """The state to go back to after a non-finite step: the phase's last checkpoint, or its start."""
        failed = state.global_step(self.steps) + 1
        path = latest_checkpoint(self.run)
        ck = load_checkpoint(path, map_location=self.ctx.device) if path is not None else None
        if ck is not None and ck.state.get("train", {}).get("phase_index") == state.phase_index:
            restored = TrainState.from_dict(ck.state["train"])
        else:
            restored, ck = TrainState(phase_index=state.phase_index), None
        # Validated best weights stay (they were finite); the failure count and lowered rate carry on.
        restored.best, restored.divergence = state.best, state.divergence
        event = self.guard.record(restored.divergence, phase=phase.value, failed_step=failed,
                                  restored_step=restored.global_step(self.steps), reason=exc.reason)
        if self.logger is not None:
            self.logger.warning(
                "non-finite step %d (phase %s: %s): restored step %d, learning rate lowered to "
                "%.3g (retry %d of %d)",
                failed,
                phase.value,
                exc.reason,
                event["step"],
                event["lr"],
                event["retry"],
                self.guard.max_retries,
            )
        return restored, ({"checkpoint": ck} if ck is not None else None)

    def _run_steps(
        self, phase: Phase, state: TrainState, nets: PhaseNets, stream: BatchStream, val: Any
    ) -> None:
        from pscgan.training.steps import discriminator_step, generator_step, has_supervised_target
        from pscgan.training.validation import save_sample_png, validate

        cfg, t, ctx = self.config, self.config.train, self.ctx
        classes = cfg.model.classes
        last_log = time.perf_counter()
        warmup = t.adversarial_warmup_steps if has_supervised_target(phase, cfg.loss) else 0
        hinge = cfg.loss.adversarial is AdversarialLoss.HINGE
        while state.phase_step < self.steps:
            window = state.log_window
            # adversarial warm-up: the first steps of the phase train the generator on its supervised
            # terms alone, and the discriminator only joins after them
            supervised_only = state.phase_step < warmup
            if nets.discriminator is not None and not supervised_only:
                for _ in range(t.d_steps_per_g_step):
                    d_logs = discriminator_step(
                        phase,
                        cfg.loss,
                        nets.generator,
                        nets.discriminator,
                        nets.opt_d,
                        stream.next(),
                        ctx,
                        classes,
                    )
                    window.add_discriminator(d_logs, hinge=hinge)
            window.add(generator_step(phase, cfg.loss, nets.generator, nets.discriminator, nets.opt_g,
                                      stream.next(), ctx, classes, supervised_only=supervised_only))
            state.phase_step += 1
            state.stream = stream.state_dict()
            step = state.phase_step
            record: dict[str, Any] | None = None
            if step % t.log_interval == 0 or step == self.steps:
                now = time.perf_counter()
                logs = reduce_mean(window.means(), ctx)  # every step since the last record
                window.clear()
                record = {
                    "step": state.global_step(self.steps),
                    "phase": phase.value,
                    "phase_step": step,
                    **logs,
                    "seconds_per_step": (now - last_log) / min(t.log_interval, step),
                }
                last_log = now
            if val is not None and (step % t.validation_interval == 0 or step == self.steps):
                metrics = validate(phase, nets.generator, val, ctx.device)
                record = (record or {"step": state.global_step(self.steps), "phase": phase.value,
                                     "phase_step": step}) | {f"val_{k}": v for k, v in metrics.items()}
                best = state.best.get(phase.value)
                if best is None or metrics["score"] > best["score"]:
                    state.best[phase.value] = {"score": metrics["score"], "step": step}
                    self._save_best(nets)
                if ctx.is_main:
                    save_sample_png(
                        self.run / "samples" / f"{phase.value}_{step:06d}.png",
                        phase,
                        nets.generator,
                        val,
                        ctx.device,
                    )
            if record is not None and ctx.is_main:
                self.metrics.write(record)
                if self.tb is not None:
                    for k, v in record.items():
                        if isinstance(v, (int, float)) and k != "step" and v is not None:
                            self.tb.add_scalar(f"{phase.value}/{k}", v, record["step"])
                if self.logger is not None:
                    self.logger.info(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                              for k, v in record.items()))
            if self.reporter is not None and ctx.is_main:
                self.reporter(phase, step, self.steps, record)
            self.steps_done += 1
            self.stopped = self.stop_after is not None and self.steps_done >= self.stop_after
            if step % t.checkpoint_interval == 0 or step == self.steps or self.stopped:
                self.guard.reached_checkpoint(state.divergence)
                self._checkpoint(state, nets)
            if self.stopped:
                barrier(ctx)
                return
