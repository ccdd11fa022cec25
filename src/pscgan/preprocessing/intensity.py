"""Robust per-slice intensity scaling to [-1, 1].

The ``low`` and ``high`` percentiles (default 0.5 and 99.5) of a slice's crop map to -1 and +1 and
values beyond them are clipped: a few very bright pixels (fat, flow artefacts, surface-coil hot spots)
do not squeeze the heart into a small part of the range. For a cine the percentiles are taken over all
phases of the slice together, so intensity changes over the cycle survive the scaling. Padding added
by the crop is left out of the percentiles (``mask``).

Example:
    >>> import numpy as np
    >>> img = np.linspace(0.0, 100.0, 1001)
    >>> out, rec = scale_intensity(img, (0.5, 99.5))
    >>> float(out.min()), float(out.max()), round(rec.low, 2), round(rec.high, 2)
    (-1.0, 1.0, 0.5, 99.5)
"""

from __future__ import annotations

import numpy as np

from pscgan.preprocessing.record import IntensityRecord


class ConstantImageError(ValueError):
    """The image has no contrast between its percentiles, so there is nothing to scale."""


def scale_intensity(array: np.ndarray, percentiles: tuple[float, float] = (0.5, 99.5), *,
                    mask: np.ndarray | None = None) -> tuple[np.ndarray, IntensityRecord]:
    """Map the ``percentiles`` of ``array`` (of ``array[mask]`` when given) linearly to [-1, 1], clipped.

    Raises:
        ValueError: percentiles not in ``0 <= low < high <= 100``.
        ConstantImageError: the two percentiles coincide (a blank or constant image).
    """
    lo_pct, hi_pct = (float(p) for p in percentiles)
    if not 0.0 <= lo_pct < hi_pct <= 100.0:
        raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100, got {percentiles}")
    values = np.asarray(array)[mask] if mask is not None else np.asarray(array)
    if values.size == 0:
        raise ConstantImageError("no pixels to take the intensity percentiles from")
    low, high = (float(v) for v in np.percentile(values, (lo_pct, hi_pct)))
    if not high - low > 1e-6 * max(1.0, abs(high)):
        raise ConstantImageError(f"image has no contrast between its {lo_pct} and {hi_pct} percentiles "
                                 f"(both {low:g})")
    record = IntensityRecord(percentiles=(lo_pct, hi_pct), low=low, high=high)
    return apply_scaling(array, record), record


def apply_scaling(array: np.ndarray, record: IntensityRecord) -> np.ndarray:
    """Scale ``array`` as described by ``record`` (float32, clipped to [-1, 1])."""
    scaled = (np.asarray(array, dtype=np.float64) - record.low) * (2.0 / (record.high - record.low)) - 1.0
    return np.clip(scaled, -1.0, 1.0).astype(np.float32)


def unscale_intensity(array: np.ndarray, record: IntensityRecord) -> np.ndarray:
    """Map [-1, 1] values back to the original intensity units (clipped values stay at the percentiles)."""
    scaled = (np.asarray(array, dtype=np.float64) + 1.0) * 0.5
    return (scaled * (record.high - record.low) + record.low).astype(np.float32)
