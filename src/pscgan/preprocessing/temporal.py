"""Temporal resampling of a cine to a fixed number of phases (25 in the paper).

The cardiac cycle is periodic, so interpolation wraps from the last phase back to the first.
End-diastole stays at phase 0: when the ED phase is not the first frame the cine is first rotated in
time so that it is.

Two methods:

* ``linear`` (default): periodic linear interpolation at the acquired trigger times. It never overshoots
  the input intensities (bSSFP pixels at the blood/myocardium border change as steps, where Fourier
  interpolation rings) and it handles non-uniform trigger times (prospective gating that leaves the end
  of the RR interval unsampled) when the trigger times and the RR interval are known.
* ``fourier``: band-limited resampling (``scipy.signal.resample``), exact for band-limited periodic
  signals; assumes uniformly spaced phases.

Example:
    >>> import numpy as np
    >>> frames = np.cos(2 * np.pi * np.arange(30) / 30)[:, None, None] * np.ones((1, 2, 2))
    >>> out, rec = resample_phases(frames, 25, method="fourier")
    >>> out.shape, rec.method, bool(np.allclose(out[:, 0, 0], np.cos(2 * np.pi * np.arange(25) / 25)))
    ((25, 2, 2), 'fourier', True)
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import numpy as np

from pscgan.preprocessing.record import TemporalRecord


class TemporalMethod(str, Enum):
    """Interpolation used to change the number of phases."""

    LINEAR = "linear"
    FOURIER = "fourier"


def resample_phases(frames: np.ndarray, n_phases: int = 25, *,
                    trigger_times_ms: Sequence[float] | None = None, rr_interval_ms: float | None = None,
                    ed_phase: int = 0, method: TemporalMethod | str = TemporalMethod.LINEAR,
                    ) -> tuple[np.ndarray, TemporalRecord]:
    """Resample ``frames`` (time first) to ``n_phases`` phases spread uniformly over one cardiac cycle.

    Args:
        frames: ``(time, ...)`` array.
        n_phases: number of output phases.
        trigger_times_ms: acquisition time of each input phase after the R wave; uniform spacing when None.
        rr_interval_ms: the cycle length; default: last trigger time plus the median phase step.
        ed_phase: index of the end-diastolic input phase; it becomes output phase 0.
        method: ``"linear"`` or ``"fourier"``. Fourier needs uniformly spaced phases; with non-uniform
            trigger times linear interpolation is used instead (and recorded).

    Returns:
        ``(n_phases, ...)`` float32 array and the :class:`TemporalRecord`. When the phase count already
        matches (and ED is phase 0) the input is returned unchanged (no interpolation).
    """
    method = TemporalMethod(method)
    frames = np.asarray(frames)
    n_in = frames.shape[0]
    if n_in < 2:
        raise ValueError(f"need at least 2 phases to resample, got {n_in}")
    if not 0 <= ed_phase < n_in:
        raise ValueError(f"ed_phase {ed_phase} outside 0..{n_in - 1}")
    times, period = _phase_times(n_in, trigger_times_ms, rr_interval_ms)
    record = dict(original_n_phases=n_in, n_phases=n_phases, ed_phase=ed_phase,
                  original_trigger_times_ms=(None if trigger_times_ms is None
                                             else [float(t) for t in trigger_times_ms]),
                  rr_interval_ms=rr_interval_ms)
    if ed_phase:
        frames = np.roll(frames, -ed_phase, axis=0)
        times = np.roll(times, -ed_phase)
        times = np.mod(times - times[0], period)
    if n_in == n_phases:
        return frames.astype(np.float32, copy=False), TemporalRecord(method="identity", **record)
    uniform = np.allclose(np.diff(np.append(times, period)), period / n_in, rtol=0.05)
    if method is TemporalMethod.FOURIER and uniform:
        from scipy.signal import resample

        out = resample(frames.astype(np.float64), n_phases, axis=0)
        return out.astype(np.float32), TemporalRecord(method="fourier", **record)
    out = periodic_linear(frames, times, period, np.arange(n_phases) * period / n_phases)
    return out.astype(np.float32), TemporalRecord(method="linear", **record)


def periodic_linear(frames: np.ndarray, times: np.ndarray, period: float, targets: np.ndarray) -> np.ndarray:
    """Linear interpolation along axis 0 of samples at ``times`` (increasing, in ``[0, period)``), wrapping.

    Example:
        >>> periodic_linear(np.array([0.0, 2.0]), np.array([0.0, 1.0]), 2.0, np.array([0.5, 1.5])).tolist()
        [1.0, 1.0]
    """
    times = np.asarray(times, dtype=np.float64)
    targets = np.mod(np.asarray(targets, dtype=np.float64), period)
    ext = np.append(times, times[0] + period)  # the first phase again, one period later
    # Targets before the first sample wrap to the interval (last sample, first sample + period).
    shifted = np.where(targets < times[0], targets + period, targets)
    upper = np.clip(np.searchsorted(ext, shifted, side="right"), 1, len(times))
    lower = upper - 1
    weight = (shifted - ext[lower]) / (ext[upper] - ext[lower])
    n = len(times)
    shape = (-1,) + (1,) * (frames.ndim - 1)
    data = frames.astype(np.float64, copy=False)
    return (1 - weight).reshape(shape) * data[lower] + weight.reshape(shape) * data[upper % n]


def _phase_times(n_in: int, trigger_times_ms: Sequence[float] | None,
                 rr_interval_ms: float | None) -> tuple[np.ndarray, float]:
    """Input phase times relative to the first phase, and the period, in ms (arbitrary units if unknown)."""
    if rr_interval_ms is not None and not (np.isfinite(rr_interval_ms) and rr_interval_ms >= 0):
        raise ValueError(f"the RR interval must be a positive number of ms, got {rr_interval_ms}")
    if trigger_times_ms is None:
        period = float(rr_interval_ms) if rr_interval_ms else float(n_in)
        return np.arange(n_in) * period / n_in, period
    times = np.asarray(trigger_times_ms, dtype=np.float64)
    if times.shape != (n_in,) or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
        raise ValueError(f"trigger times must be {n_in} increasing values, got {times.tolist()}")
    times = times - times[0]
    step = float(np.median(np.diff(times)))
    period = float(rr_interval_ms) if rr_interval_ms else times[-1] + step
    if period <= times[-1]:  # RR shorter than the acquisition window: the stated RR is not usable
        period = times[-1] + step
    return times, period
