"""Learning curves: validation metrics against training time, read from a run's own ``metrics.jsonl``.

Both PSCGAN's trainer and the baselines' log ``seconds_per_step`` (the mean over the steps since the
previous log line) every ``log_interval`` steps and their validation metrics (``val_*``) every
``validation_interval`` steps. Training time at a step is the sum of those means times the steps they
cover, so it counts optimiser steps only: validation, checkpoints and start-up are left out, and a
resumed run adds up its sittings. For a cascade the step is the global one (phases in sequence) and
each point carries its phase, so a curve shows where one phase hands over to the next.

Example:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> run = Path(tempfile.mkdtemp())
    >>> lines = [{"step": 10, "seconds_per_step": 0.5}, {"step": 20, "seconds_per_step": 1.0,
    ...          "val_dice_scar": 0.25}]
    >>> _ = (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\\n" for r in lines))
    >>> curve = learning_curve(run, "demo")
    >>> [(p.step, p.seconds, p.metrics["dice_scar"]) for p in curve.points]
    [(20, 15.0, 0.25)]
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pscgan.errors import InputError

METRICS_FILE = "metrics.jsonl"

#: The metrics a learning-curve figure shows, in panel order, with their axis labels.
CURVE_METRICS: dict[str, str] = {
    "dice_scar": "validation scar Dice",
    "dice_overall": "validation overall Dice",
    "ssim": "validation SSIM",
}


@dataclass(frozen=True)
class CurvePoint:
    """One validation of a run: its step, training seconds up to it, phase and ``val_*`` metrics."""

    step: int
    seconds: float
    phase: str | None
    metrics: dict[str, float]


@dataclass
class LearningCurve:
    """A run's validations in step order, with the training seconds of the whole run."""

    name: str
    points: list[CurvePoint] = field(default_factory=list)
    total_seconds: float = 0.0
    total_steps: int = 0

    def rescaled(self, minutes: float) -> LearningCurve:
        """This curve with its time axis scaled so that the whole run takes ``minutes``.

        Puts runs that shared the machine with different numbers of other jobs on one clock, given a
        measured time of each configuration alone: other jobs slow a run about evenly over its length.

        Raises:
            ValueError: ``minutes`` is not positive, or the curve logged no training time.
        """
        if not minutes > 0 or not self.total_seconds > 0:
            raise ValueError(f"cannot scale {self.total_seconds} s of training to {minutes} minutes")
        factor = minutes * 60 / self.total_seconds
        points = [replace(p, seconds=p.seconds * factor) for p in self.points]
        return LearningCurve(self.name, points, minutes * 60, self.total_steps)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "total_steps": self.total_steps,
            "total_training_seconds": round(self.total_seconds, 3),
            "points": [
                {"step": p.step, "training_seconds": round(p.seconds, 3), "phase": p.phase,
                 **{k: round(v, 5) for k, v in p.metrics.items()}}
                for p in self.points
            ],
        }


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl``; a line cut short by a crash is skipped, anything else refused."""
    if not path.is_file():
        raise InputError(path, "no metrics.jsonl here: not a training run folder")
    records = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                continue  # the last line of a run killed while writing it
            raise InputError(path, f"line {i + 1} is not JSON") from None
        if not isinstance(record, dict) or not isinstance(record.get("step"), int):
            raise InputError(path, f"line {i + 1} is not a metrics record with an integer 'step'")
        records.append(record)
    return records


def learning_curve(run: Path, name: str) -> LearningCurve:
    """The validation curve of the run folder ``run`` against training time.

    Args:
        run: a PSCGAN or baseline run folder (anything holding a ``metrics.jsonl``).
        name: the curve's label.

    Raises:
        InputError: no or unreadable ``metrics.jsonl``.
    """
    records = read_metrics(run / METRICS_FILE)
    curve = LearningCurve(name)
    seconds, last_step = 0.0, 0
    for record in sorted(records, key=lambda r: r["step"]):
        step = record["step"]
        rate = record.get("seconds_per_step")
        if isinstance(rate, int | float) and math.isfinite(rate) and step > last_step:
            seconds += float(rate) * (step - last_step)
            last_step = step
        metrics = {
            key[4:]: float(value) for key, value in record.items()
            if key.startswith("val_") and isinstance(value, int | float) and math.isfinite(value)
        }
        metrics.pop("score", None)  # each run's own selection score: not comparable across runs
        if metrics:
            curve.points.append(CurvePoint(step, seconds, record.get("phase"), metrics))
    curve.total_seconds, curve.total_steps = seconds, last_step
    return curve


def learning_curves_png(curves: list[LearningCurve], title: str | None = None) -> bytes:
    """One panel per metric of :data:`CURVE_METRICS` (validation value against training minutes).

    A cascade's points are joined within a phase only and marked per phase; a run without a metric
    leaves that panel's line out.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from pscgan.report.panels import figure_png

    fig = Figure(figsize=(4.2 * len(CURVE_METRICS), 3.8), dpi=100, layout="constrained", facecolor="white")
    axes = fig.subplots(1, len(CURVE_METRICS))
    markers = ["o", "s", "^", "D", "v"]
    colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00"]  # colour-blind safe (Okabe-Ito)
    for ax, (key, label) in zip(axes, CURVE_METRICS.items(), strict=True):
        for i, curve in enumerate(curves):
            phases: dict[str | None, list[CurvePoint]] = {}
            for point in curve.points:
                if key in point.metrics:
                    phases.setdefault(point.phase, []).append(point)
            for j, (phase, points) in enumerate(phases.items()):
                suffix = f" ({phase})" if phase and len(phases) > 1 else ""
                ax.plot([p.seconds / 60 for p in points], [p.metrics[key] for p in points],
                        marker=markers[j % len(markers)], markersize=3, linewidth=1.2,
                        color=colours[i % len(colours)], label=f"{curve.name}{suffix}")
        ax.set_xscale("log")
        # plain numbers at 1, 2 and 5 of each decade: the default minor labels (2x10^-1, ...) overlap
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("training time (minutes, log scale)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return figure_png(fig)
