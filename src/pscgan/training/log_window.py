"""Training losses averaged over each logging interval, with the hinge discriminator's saturation.

A GAN's losses swing from one step to the next, so the losses of the single step a record is written
at say little about the interval before it. The window sums every discriminator and generator step's
losses between two records and reports their means. For the hinge loss it also counts how often the
discriminator was *saturated*: its loss exactly 0, every real and generated sample beyond the margin,
so that step gave the discriminator no gradient at all (``d_saturated``, the fraction of its steps).

The window is part of the training state saved in each checkpoint, so a resumed run logs exactly what
an uninterrupted one would, wherever the checkpoints fall between two records.

Example:
    >>> w = LogWindow()
    >>> w.add_discriminator({"d_adversarial": 0.0}, hinge=True)
    >>> w.add_discriminator({"d_adversarial": 0.5}, hinge=True)
    >>> w.add({"g_total": 1.0}); w.add({"g_total": 2.0})
    >>> w.means()
    {'d_adversarial': 0.25, 'd_saturated': 0.5, 'g_total': 1.5}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LogWindow:
    """Sums and counts of each logged quantity since the last record (insertion order is log order)."""

    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, values: Mapping[str, float | Sequence[float]]) -> None:
        """Add one step's values; a sequence is one value per update of that step (each counts once, so a
        discriminator updated twice per step is averaged over its updates)."""
        for key, value in values.items():
            for v in value if isinstance(value, Sequence) else (value,):
                self.sums[key] = self.sums.get(key, 0.0) + float(v)
                self.counts[key] = self.counts.get(key, 0) + 1

    def add_discriminator(self, values: Mapping[str, float], *, hinge: bool) -> None:
        """Add one discriminator step's values and, for the hinge loss, whether it was saturated."""
        self.add(values)
        if hinge and "d_adversarial" in values:
            self.add({"d_saturated": float(values["d_adversarial"] == 0.0)})

    def means(self) -> dict[str, float]:
        """The mean of each quantity over the steps that reported it."""
        return {key: self.sums[key] / self.counts[key] for key in self.sums}

    def clear(self) -> None:
        self.sums.clear()
        self.counts.clear()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LogWindow:
        """From :func:`dataclasses.asdict` output."""
        return cls(sums=dict(data.get("sums", {})), counts=dict(data.get("counts", {})))
