"""Where a task's training stands, and how a run lays that out in its checkpoints and metrics.

:class:`LoopState` is what the loop saves with every checkpoint besides the weights, optimisers and
random state. A :class:`CheckpointLayout` turns it into a checkpoint's ``state`` and back, names the
best checkpoint and adds a run's own fields to each ``metrics.jsonl`` record. Two layouts exist, so that
every run folder written before the loop was shared keeps resuming:

* :class:`TaskLayout` -- one task per run (the baselines): ``{"train": {"step", "best", "divergence",
  "log_window"}, "rng", "stream", "optimizers", "split_sha256"}``, best weights in ``checkpoints/best``;
* :class:`pscgan.training.phase_layout.PhaseLayout` -- the cascade's phases, one after another in one
  run folder, with the earlier phases' frozen generators in each checkpoint.

Example:
    >>> layout = TaskLayout()
    >>> state = LoopState(step=3, best={"score": 0.5, "step": 2})
    >>> payload = layout.pack(state, {"net": {"state": {}}}, rng={})
    >>> back, optimizers = layout.unpack(payload)
    >>> back == state, list(optimizers), layout.best_name
    (True, ['net'], 'best')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from torch import nn

from pscgan.migrations import BASELINE_TRAINING_STATE, migrate
from pscgan.training.divergence import DivergenceState
from pscgan.training.log_window import LogWindow
from pscgan.training.task import Task


@dataclass
class LoopState:
    """Where a task's training stands; all of it goes into each checkpoint.

    Attributes:
        step: steps of the task done.
        stream: the batch stream's position (``epoch``, ``position``).
        best: the best validation so far, ``{"score", "step"}``, or ``None``.
        divergence: the lowered learning rate and recent failures (:mod:`pscgan.training.divergence`).
        log_window: the losses summed since the last record.
    """

    step: int = 0
    stream: dict[str, int] = field(default_factory=lambda: {"epoch": 0, "position": 0})
    best: dict[str, Any] | None = None
    divergence: DivergenceState = field(default_factory=DivergenceState)
    log_window: LogWindow = field(default_factory=LogWindow)


class CheckpointLayout(Protocol):
    """How a run stores a task's :class:`LoopState` and names what the loop writes.

    Attributes:
        best_name: the checkpoint folder of the best validation weights.
        protect: checkpoint names that pruning old checkpoints must keep.
        step_offset: added to the task's step in checkpoint names (``step_%08d``), metrics records and
            divergence events (the cascade counts its phases' steps on one axis).
    """

    @property
    def best_name(self) -> str: ...

    @property
    def protect(self) -> set[str]: ...

    @property
    def step_offset(self) -> int: ...

    def tags(self, step: int) -> dict[str, Any]:
        """Fields of a metrics record after its ``step``."""
        ...

    def modules(self, task: Task) -> dict[str, nn.Module]:
        """Every module a checkpoint holds (the task's, and any the run keeps beside them)."""
        ...

    def pack(self, state: LoopState, optimizers: dict[str, Any], rng: dict[str, Any]) -> dict[str, Any]:
        """A checkpoint's ``state``: the loop state, the optimisers' state dicts by name, the random state."""
        ...

    def unpack(self, payload: Any) -> tuple[LoopState, dict[str, Any]] | None:
        """The loop state and the optimisers' state dicts of a checkpoint's ``state``, or ``None`` when
        the checkpoint is not of this task (an earlier phase's)."""
        ...


@dataclass
class TaskLayout:
    """The layout of a run that trains one task (the baselines').

    Args:
        best_name: the best weights' checkpoint folder.
        step_offset: added to the step in checkpoint names and records (0: the run is this one task).
        split_sha256: the digest of the run's split (:func:`pscgan.training.resume_checks.split_digest`),
            saved in every checkpoint so that a resume can tell the split was not changed since.
    """

    best_name: str = "best"
    step_offset: int = 0
    split_sha256: str | None = None

    @property
    def protect(self) -> set[str]:
        return {self.best_name}

    def tags(self, step: int) -> dict[str, Any]:
        return {}

    def modules(self, task: Task) -> dict[str, nn.Module]:
        return dict(task.modules)

    def pack(self, state: LoopState, optimizers: dict[str, Any], rng: dict[str, Any]) -> dict[str, Any]:
        train = {BASELINE_TRAINING_STATE.key: BASELINE_TRAINING_STATE.current, "step": state.step,
                 "best": state.best, "divergence": asdict(state.divergence),
                 "log_window": asdict(state.log_window)}
        payload: dict[str, Any] = {"train": train, "rng": rng, "stream": dict(state.stream),
                                   "optimizers": optimizers}
        if self.split_sha256 is not None:
            payload["split_sha256"] = self.split_sha256
        return payload

    def unpack(self, payload: Any) -> tuple[LoopState, dict[str, Any]]:
        train = migrate(BASELINE_TRAINING_STATE, payload["train"])[0]  # of today's version or an older one
        if type(train["step"]) is not int:  # as written, never rounded: an edited state.json is refused
            raise ValueError(f"step {str(train['step'])[:40]!r} is not an integer")
        state = LoopState(step=train["step"], stream=dict(payload["stream"]), best=train["best"],
                          divergence=DivergenceState(**train["divergence"]),
                          log_window=LogWindow.from_dict(train["log_window"]))
        return state, dict(payload["optimizers"])
