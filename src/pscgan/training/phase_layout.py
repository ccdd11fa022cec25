"""How the cascade's run folder stores its phases' training state (the format of every ``pscgan train`` run).

All phases share one run folder and one step axis: phase ``i`` step ``s`` is global step ``s`` plus the
steps of the phases before it (``TrainConfig.phase_steps``) in checkpoint names (``step_%08d``),
``metrics.jsonl`` (with ``phase`` and ``phase_step``) and divergence events. A checkpoint holds the frozen
generators of the phases before the current one beside its networks, so a run resumes in the middle of any
phase; its ``state`` is::

    {"train": TrainState, "rng": ..., "opt_g": ..., "opt_d": ... or None, "split_sha256": ...}

and each phase's best validation weights are ``checkpoints/best_<phase>``.

Example:
    >>> from pscgan.models.phase import Phase
    >>> from pscgan.training.loop_state import LoopState
    >>> phases = (Phase.COARSE, Phase.SYNTHESIS, Phase.SEGMENTATION)
    >>> layout = PhaseLayout(Phase.SYNTHESIS, index=1, step_offset=10, phases=phases)
    >>> payload = layout.pack(LoopState(step=4), {"g": {}}, rng={})
    >>> payload["train"]["phase_index"], payload["train"]["phase_step"], payload["opt_d"], layout.step_offset
    (1, 4, None, 10)
    >>> layout.unpack(payload)[0].step, PhaseLayout(Phase.COARSE, 0, 10, phases).unpack(payload)
    (4, None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from torch import nn

from pscgan.migrations import TRAINING_STATE, migrate
from pscgan.models.phase import Phase
from pscgan.training.divergence import DivergenceState
from pscgan.training.log_window import LogWindow
from pscgan.training.loop_state import LoopState
from pscgan.training.task import Task


@dataclass
class TrainState:
    """A cascade checkpoint's ``train`` entry: the phase, its step, and its loop state.

    ``best`` holds the best validation (``score``, ``step``) of every phase so far, by phase name.
    """

    phase_index: int = 0
    phase_step: int = 0
    stream: dict[str, int] = field(default_factory=lambda: {"epoch": 0, "position": 0})
    best: dict[str, dict[str, float]] = field(default_factory=dict)
    divergence: DivergenceState = field(default_factory=DivergenceState)
    log_window: LogWindow = field(default_factory=LogWindow)

    def global_step(self, phase_steps: Sequence[int]) -> int:
        """The step on the run's axis, given every phase's steps (``TrainConfig.phase_steps``)."""
        return sum(phase_steps[: self.phase_index]) + self.phase_step

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), TRAINING_STATE.key: TRAINING_STATE.current}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainState:
        """From :meth:`to_dict` output, of today's version or an older one (:mod:`pscgan.migrations`)."""
        data, _ = migrate(TRAINING_STATE, data)
        data = dict(data)
        data.pop(TRAINING_STATE.key)
        divergence = DivergenceState(**data.pop("divergence"))
        window = LogWindow.from_dict(data.pop("log_window"))
        return cls(**data, divergence=divergence, log_window=window)


@dataclass
class PhaseLayout:
    """The layout of phase ``phase`` (number ``index`` of ``phases``) in a cascade run.

    Args:
        phase: the phase being trained.
        index: its position in ``phases``.
        step_offset: its first step on the run's step axis (the steps of the phases before it).
        phases: every phase of the run, in order.
        frozen: the trained generators of the phases before it (saved in each checkpoint).
        earlier_best: the best validation of the phases before it, by phase name (kept in ``best``).
        split_sha256: the digest of the run's split (:func:`pscgan.training.resume_checks.split_digest`),
            saved in every checkpoint so that a resume can tell the split was not changed since.
    """

    phase: Phase
    index: int
    step_offset: int
    phases: tuple[Phase, ...]
    frozen: Mapping[Phase, nn.Module] = field(default_factory=dict)
    earlier_best: dict[str, dict[str, float]] = field(default_factory=dict)
    split_sha256: str | None = None

    @property
    def best_name(self) -> str:
        return f"best_{self.phase.value}"

    @property
    def protect(self) -> set[str]:
        return {f"best_{p.value}" for p in self.phases}

    def tags(self, step: int) -> dict[str, Any]:
        return {"phase": self.phase.value, "phase_step": step}

    def modules(self, task: Task) -> dict[str, nn.Module]:
        return {f"{p.value}.generator": g for p, g in self.frozen.items()} | task.modules

    def pack(self, state: LoopState, optimizers: dict[str, Any], rng: dict[str, Any]) -> dict[str, Any]:
        best = {k: v for k, v in self.earlier_best.items() if k != self.phase.value}
        if state.best is not None:
            best[self.phase.value] = state.best
        train = TrainState(phase_index=self.index, phase_step=state.step, stream=dict(state.stream),
                           best=best, divergence=state.divergence, log_window=state.log_window)
        payload: dict[str, Any] = {"train": train.to_dict(), "rng": rng, "opt_g": optimizers["g"],
                                   "opt_d": optimizers.get("d")}
        if self.split_sha256 is not None:
            payload["split_sha256"] = self.split_sha256
        return payload

    def unpack(self, payload: Any) -> tuple[LoopState, dict[str, Any]] | None:
        train = payload.get("train") if isinstance(payload, dict) else None
        if not isinstance(train, dict) or train.get("phase_index") != self.index:
            return None  # an earlier phase's checkpoint
        saved = TrainState.from_dict(train)
        state = LoopState(step=saved.phase_step, stream=dict(saved.stream),
                          best=saved.best.get(self.phase.value), divergence=saved.divergence,
                          log_window=saved.log_window)
        optimizers = {"g": payload["opt_g"]}
        if payload.get("opt_d") is not None:
            optimizers["d"] = payload["opt_d"]
        return state, optimizers
