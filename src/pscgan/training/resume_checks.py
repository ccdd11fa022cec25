"""What a resume checks: a checkpoint's state against the checkpoint it names and the run it continues.

Checksums prove that a checkpoint's files are as they were written, not that their content belongs to the
run: ``state.json`` edited with its checksum recomputed can hold any step, phase, stream position,
learning-rate scale or best score that type-checks, and the run would then continue from a place it never
reached, silently. Before a trainer restores a checkpoint, every restored value is cross-checked against
what it must agree with (the cascade: :func:`check_cascade_resume`, before it rebuilds its frozen phases;
a baseline: :func:`check_task_resume`, from the training loop's ``check_resume``; ``pscgan anatomy
train``: :func:`check_step_resume`):

* the checkpoint's folder name (``step_00001200``) and the ``name`` its metadata records: the step;
* the optimisers' own step counts (tensors of ``state.safetensors``): the step;
* the batch stream's ``(epoch, position)``: the batches the steps drew from this run's training set;
* the divergence record: its learning-rate scale is ``divergence_lr_factor`` to the number of its events;
* the best scores: finite, of phases reached, at steps reached (before a divergence rolled the run back,
  too), with their weights on disk;
* the run's ``split.json``: the subjects it trains on are in the dataset, in one part each, and the same
  as when the checkpoint was written (its digest is saved with every checkpoint).

Each disagreement is one :class:`~pscgan.errors.InputError` naming the file and the value. The checks are
documented for users in ``docs/training.md`` ("What a resume checks").

Example:
    >>> split_digest({"train": ["b", "a"], "validation": []}) == split_digest({"train": ["a", "b"]})
    True
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pscgan.errors import InputError

if TYPE_CHECKING:
    from pscgan.config.schema import PscganConfig
    from pscgan.training.checkpoint import Checkpoint
    from pscgan.training.divergence import DivergenceGuard
    from pscgan.training.loop_state import LoopState

_STEP_NAME = re.compile(r"^step_(\d+)$")
_ADVICE = "resume from an earlier checkpoint (point checkpoints/latest.json at it) or start a new run"


def _refuse(path: Path, problem: str) -> InputError:
    return InputError(path, f"{problem}: the checkpoint does not fit the run it would continue; {_ADVICE}")


def split_digest(split: Mapping[str, Any]) -> str:
    """SHA-256 of the subjects a run trains and validates on (order ignored), saved in its checkpoints."""
    parts = {k: sorted(str(s) for s in split.get(k, []) or []) for k in ("train", "validation")}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def check_split(path: Path, split: Mapping[str, Any], held: Iterable[str]) -> None:
    """Refuse a run split naming subjects the dataset does not hold (they would be left out silently) or
    a subject in two parts (it would be validated or tested on what it trained on).

    Raises:
        InputError: naming ``path`` (the run's ``split.json``).
    """
    held = set(held)
    parts = {k: list(split.get(k, []) or []) for k in ("train", "validation", "test")}
    unknown = sorted({s for k in ("train", "validation") for s in parts[k]} - held)
    if unknown:
        raise InputError(path, f"names {len(unknown)} subject(s) the dataset does not hold, e.g. "
                               f"{unknown[:3]}; give --data the dataset this run was started on")
    for a, b in (("train", "validation"), ("train", "test"), ("validation", "test")):
        both = sorted(set(parts[a]) & set(parts[b]))
        if both:
            raise InputError(path, f"puts {both[:3]} in both {a!r} and {b!r}")


def check_split_unchanged(meta_path: Path, recorded: Any, split: Mapping[str, Any], split_path: Path) -> None:
    """Refuse a resume whose ``split.json`` differs from the one the checkpoint was trained with (a
    checkpoint written before pscgan recorded it, ``recorded`` None, is not checked)."""
    if recorded is not None and recorded != split_digest(split):
        raise InputError(split_path, "differs from the split the checkpoint was trained on (edited since?); "
                                     f"put it back or start a new run ({meta_path} records another)")


def check_checkpoint_name(path: Path, step: int) -> None:
    """The folder ``step_NNNNNNNN`` holds the state of step NNNNNNNN (other names are side copies)."""
    match = _STEP_NAME.match(path.name)
    if match and int(match.group(1)) != step:
        raise _refuse(path / "state.json", f"the checkpoint {path.name} holds the state of step {step}")


def _number(path: Path, what: str, value: Any, low: float, high: float, *, integer: bool = True) -> float:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value) \
            or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise _refuse(path, f"{what} is {value!r}, not {kind} in {low:g}..{high:g}")
    return value


def optimizer_steps(state: Any) -> int | None:
    """The largest per-parameter step count of an Adam/AdamW ``state_dict`` (None: no step taken)."""
    import torch

    if not isinstance(state, Mapping) or not isinstance(state.get("state"), Mapping):
        raise TypeError("not an optimizer state")
    steps = []
    for entry in state["state"].values():
        step = entry.get("step") if isinstance(entry, Mapping) else None
        if step is None:
            continue
        value = float(step.item()) if isinstance(step, torch.Tensor) and step.numel() == 1 else step
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise TypeError(f"optimizer step count {step!r}")
        steps.append(int(value))
    return max(steps) if steps else None


def check_optimizer(path: Path, what: str, state: Any, expected: int) -> None:
    """An optimiser that took ``expected`` steps (Adam's per-parameter counts)."""
    try:
        taken = optimizer_steps(state)
    except TypeError as exc:
        raise _refuse(path, f"the {what} state is not an optimiser's ({exc})") from None
    if (taken or 0) != expected:
        raise _refuse(path, f"the {what} took {taken or 0} steps, the state says {expected}")


def check_stream(path: Path, stream: Any, *, samples: int, per_epoch: int) -> None:
    """A batch stream that drew ``samples`` samples from a training set of ``per_epoch`` per epoch."""
    if not isinstance(stream, Mapping):
        raise _refuse(path, f"the batch stream state is {type(stream).__name__}, not an object")
    epoch = _number(path, "the batch stream's epoch", stream.get("epoch"), 0, 1e12)
    position = _number(path, "the batch stream's position", stream.get("position"), 0, per_epoch)
    if epoch * per_epoch + position != samples:
        raise _refuse(path, f"the batch stream stands at epoch {epoch}, position {position}: not where "
                            f"{samples} samples drawn from {per_epoch} training slices leave it (split "
                            "edited?)")


def check_divergence(path: Path, divergence: Any, *, factor: float, max_retries: int) -> None:
    """A divergence record whose learning-rate scale and retry count follow from its events."""
    events = getattr(divergence, "events", None)
    if not isinstance(events, list) or not all(isinstance(e, Mapping) for e in events):
        raise _refuse(path, "the divergence events are not a list of objects")
    _number(path, "the divergence retry count", divergence.retries, 0, min(max_retries, len(events)))
    scale = _number(path, "the learning-rate scale", divergence.lr_scale, 1e-300, 1.0, integer=False)
    expected = factor ** len(events)
    if not math.isclose(scale, expected, rel_tol=1e-6):
        raise _refuse(path, f"the learning-rate scale is {scale:g}, but {len(events)} divergence event(s) "
                            f"with factor {factor:g} give {expected:g}")


def reached_step(path: Path, divergence: Any, step: int, *, steps: int, offset: int = 0) -> int:
    """The furthest step a task reached: ``step``, or a later one when a divergence rolled it back to
    ``step`` (the steps before each event's ``failed_step`` were done, their validations included, and a
    best score found there is kept). ``offset``: the task's first step on the run's step axis (the
    cascade's phase ``i`` starts after the steps of the phases before it), as events record it."""
    reached = step
    for event in divergence.events:
        failed = _number(path, "a divergence event's failed_step", event.get("failed_step"), offset + 1,
                         offset + steps)
        reached = max(reached, int(failed) - offset - 1)
    return reached


def check_best(path: Path, best: Any, *, phases: list[str], steps: int | Mapping[str, int],
               current: str | None = None, at: int | None = None, key: str = "score") -> None:
    """Best scores of phases reached (``phases``), finite, at steps within the phase (``steps``: every
    phase's, or each one's by name; ``at`` bounds the current phase's)."""
    if not isinstance(best, Mapping):
        raise _refuse(path, f"the best scores are {type(best).__name__}, not an object")
    for name, entry in best.items():
        if name not in phases:
            raise _refuse(path, f"records a best score of phase {name!r}, which this run has not reached")
        if not isinstance(entry, Mapping):
            raise _refuse(path, f"the best score of phase {name!r} is not an object")
        _number(path, f"the best {key} of phase {name!r}", entry.get(key), -1e9, 1e9, integer=False)
        high = at if name == current and at is not None else (
            steps[name] if isinstance(steps, Mapping) else steps)
        _number(path, f"the step of phase {name!r}'s best score", entry.get("step"), 1, max(high, 1))


def check_log_window(path: Path, window: Any) -> None:
    """Sums (finite numbers) and counts (non-negative integers) of the same quantities."""
    sums, counts = getattr(window, "sums", None), getattr(window, "counts", None)
    if not isinstance(sums, Mapping) or not isinstance(counts, Mapping) or set(sums) != set(counts):
        raise _refuse(path, "the log window's sums and counts do not match")
    for k in sums:
        _number(path, f"the log window's sum of {k!r}", sums[k], -1e300, 1e300, integer=False)
        _number(path, f"the log window's count of {k!r}", counts[k], 0, 1e12)


def check_cascade_resume(ck: Checkpoint, train: Any, config: PscganConfig, *, n_train: int, world_size: int,
                         split: Mapping[str, Any] | None = None) -> None:
    """Cross-check a cascade checkpoint's training state (``train``, a
    :class:`~pscgan.training.phase_layout.TrainState`) before
    :class:`~pscgan.training.trainer.ProgressiveTrainer` rebuilds its frozen phases from it and hands it to
    the training loop.

    Args:
        ck: the loaded checkpoint.
        train: its decoded training state (phase and step already checked to lie within the run).
        config: the run's configuration.
        n_train: training slices of the run's split.
        world_size: processes of this resume (the stream counts one rank's share).
        split: the run's split (``split.json``), compared with the digest the checkpoint recorded.

    Raises:
        InputError: naming the checkpoint's ``state.json`` (or ``split.json``) and the disagreement.
    """
    from pscgan.config.schema import AdversarialLoss
    from pscgan.models.phase import phases_for
    from pscgan.training.sampling import EpochOrder
    from pscgan.training.steps import has_supervised_target

    path, t = ck.path / "state.json", config.train
    phases = phases_for(progressive=config.model.progressive)
    phase, step = phases[train.phase_index], train.phase_step
    phase_steps = t.phase_steps(len(phases))
    check_checkpoint_name(ck.path, train.global_step(phase_steps))
    later = {p.value for p in phases[train.phase_index + 1:]}
    extra = sorted({k.split(".", 1)[0] for k in ck.weights} & later)
    if extra:
        raise _refuse(path, f"holds weights of phase {extra[0]!r}, which phase {phase.value!r} precedes")
    check_optimizer(path, "generator's optimiser", ck.state.get("opt_g"), step)
    d_steps = 0
    if config.loss.adversarial is not AdversarialLoss.NONE:
        warmup = t.adversarial_warmup_steps if has_supervised_target(phase, config.loss) else 0
        d_steps = t.d_steps_per_g_step * max(0, step - warmup)
        check_optimizer(path, "discriminator's optimiser", ck.state.get("opt_d"), d_steps)
    per_epoch = EpochOrder(n=max(n_train, 1), world_size=world_size).per_rank
    check_stream(path, train.stream, samples=t.batch_size * (step + d_steps), per_epoch=per_epoch)
    check_divergence(path, train.divergence, factor=t.divergence_lr_factor, max_retries=t.divergence_retries)
    at = reached_step(path, train.divergence, step, steps=phase_steps[train.phase_index],
                      offset=sum(phase_steps[: train.phase_index]))
    reached = [p.value for p in phases[: train.phase_index + 1]]
    check_best(path, train.best, phases=reached, steps={p.value: n for p, n in zip(phases, phase_steps)},
               current=phase.value, at=at)
    for name in train.best:
        if not (ck.path.parent / f"best_{name}").is_dir():
            raise _refuse(path, f"records best weights of phase {name!r}, but checkpoints/best_{name} is "
                                "missing")
    check_log_window(path, train.log_window)
    if split is not None:
        check_split_unchanged(path, ck.state.get("split_sha256"), split, ck.path.parents[1] / "split.json")


def check_step_resume(ck: Checkpoint, *, step: Any, steps: int, optimizers: Mapping[str, Any], best: Any,
                      best_key: str, best_file: Path, stream: Any = None, batch_size: int = 0,
                      n_train: int = 0, reached: int | None = None) -> int:
    """Cross-check a single-network trainer's checkpoint (a baseline's or the anatomy network's): a step
    within the run, named by its folder, taken by every optimiser and, when the trainer has a batch stream,
    drawn by it; a best score that is a number and, when it names its step, of a step reached (``step``,
    or ``reached`` after a divergence rolled the run back, :func:`reached_step`) whose weights
    (``best_file``) are on disk. Returns the step.

    Raises:
        InputError: naming the checkpoint's ``state.json`` and the disagreement.
    """
    path = ck.path / "state.json"
    step = int(_number(path, "the step", step, 0, steps))
    check_checkpoint_name(ck.path, step)
    for name, state in optimizers.items():
        check_optimizer(path, f"{name} optimiser", state, step)
    if stream is not None:
        check_stream(path, stream, samples=batch_size * step, per_epoch=max(n_train, 1))
    if best is None:
        return step
    if not isinstance(best, Mapping):
        raise _refuse(path, f"the best score is {type(best).__name__}, not an object")
    _number(path, f"the best {best_key}", best.get(best_key), -1e9, 1e9, integer=False)
    if "step" in best:
        high = max(step, reached if reached is not None else step, 1)
        at = int(_number(path, "the step of the best score", best.get("step"), 1, high))
        if not best_file.exists():
            raise _refuse(path, f"records a best score at step {at}, but {best_file.name} is missing")
    return step


def check_task_resume(ck: Checkpoint, state: LoopState, optimizers: Mapping[str, Any], *, steps: int,
                      batch_size: int, n_train: int, guard: DivergenceGuard, best_name: str,
                      split: Mapping[str, Any] | None = None, split_path: Path | None = None) -> None:
    """Cross-check a one-task run's checkpoint (a baseline's, :class:`~pscgan.training.loop_state.TaskLayout`)
    as :class:`~pscgan.training.loop.TrainingLoop` unpacked it, before the loop restores it: the step
    (:func:`check_step_resume`: folder name, every optimiser, the batch stream, the best score and its
    weights ``checkpoints/<best_name>``), the divergence record (``guard``'s factor and retries), the log
    window and, with ``split``, the split the checkpoint was trained on.

    Raises:
        InputError: naming the checkpoint's ``state.json`` (or ``split_path``) and the disagreement.
    """
    path = ck.path / "state.json"
    check_divergence(path, state.divergence, factor=guard.lr_factor, max_retries=guard.max_retries)
    step = int(_number(path, "the step", state.step, 0, steps))
    check_step_resume(ck, step=step, steps=steps, optimizers=optimizers, best=state.best,
                      best_key="score", best_file=ck.path.parent / best_name, stream=state.stream,
                      batch_size=batch_size, n_train=n_train,
                      reached=reached_step(path, state.divergence, step, steps=steps))
    check_log_window(path, state.log_window)
    if split is not None:
        check_split_unchanged(path, ck.state.get("split_sha256"), split,
                              split_path if split_path is not None else ck.path.parents[1] / "split.json")
