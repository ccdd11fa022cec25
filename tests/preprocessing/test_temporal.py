"""Temporal resampling: analytic curves, identity, wrap-around, ED phase, non-uniform trigger times."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.preprocessing.temporal import periodic_linear, resample_phases


def _sinusoid(times_fraction):
    return 0.5 + 0.4 * np.sin(2 * np.pi * times_fraction + 0.3)


def _chord_error(amplitude, step_fraction):
    """Largest error of linear interpolation of a sinusoid between samples a phase step apart."""
    return amplitude * (2 * np.pi * step_fraction) ** 2 / 8


@pytest.mark.parametrize(("method", "tolerance"), [("fourier", 1e-9), ("linear", _chord_error(0.4, 1 / 30))])
def test_sinusoid_30_to_25(method, tolerance):
    frames = _sinusoid(np.arange(30) / 30)[:, None, None] * np.ones((1, 3, 2))
    out, record = resample_phases(frames, 25, method=method)
    expected = _sinusoid(np.arange(25) / 25)
    assert out.shape == (25, 3, 2) and out.dtype == np.float32 and record.method == method
    np.testing.assert_allclose(out[:, 1, 1], expected, atol=max(tolerance, 1e-6))  # float32 output
    assert record.original_n_phases == 30 and record.n_phases == 25


def test_25_to_25_is_identity():
    frames = np.random.default_rng(0).random((25, 4, 4)).astype(np.float32)
    out, record = resample_phases(frames, 25)
    assert record.method == "identity"
    np.testing.assert_array_equal(out, frames)


def test_ed_phase_becomes_phase_zero():
    frames = np.arange(20, dtype=np.float64)[:, None] * np.ones((1, 2))
    out, record = resample_phases(frames, 20, ed_phase=5)
    assert out[0, 0] == 5 and out[-1, 0] == 4 and record.ed_phase == 5


def test_prospective_gating_with_known_rr():
    # 20 phases over the first 800 ms of a 1000 ms cycle: the last 200 ms are interpolated across the wrap.
    times = np.arange(20) * 40.0
    frames = _sinusoid(times / 1000.0)[:, None]
    out, record = resample_phases(frames, 25, trigger_times_ms=times, rr_interval_ms=1000.0)
    assert record.method == "linear" and record.rr_interval_ms == 1000.0
    np.testing.assert_allclose(out[:20, 0], _sinusoid(np.arange(20) / 25), atol=_chord_error(0.4, 0.04))
    # between 760 ms and 1000 ms (wrap) the interpolant is the chord from the last phase to the first
    chord = np.interp(np.arange(20, 25) * 40.0, [760.0, 1000.0], [frames[-1, 0], frames[0, 0]])
    np.testing.assert_allclose(out[20:, 0], chord, atol=1e-6)


def test_fourier_falls_back_to_linear_for_non_uniform_phases():
    times = np.arange(20) * 40.0
    _, record = resample_phases(np.random.default_rng(0).random((20, 2)), 25, trigger_times_ms=times,
                                rr_interval_ms=1000.0, method="fourier")
    assert record.method == "linear"


def test_periodic_linear_matches_numpy_interp_with_period():
    rng = np.random.default_rng(3)
    times = np.sort(rng.uniform(0, 900, 17))
    frames = rng.random((17, 5))
    targets = np.linspace(0, 1000, 40, endpoint=False)
    ours = periodic_linear(frames, times, 1000.0, targets)
    for pixel in range(5):
        np.testing.assert_allclose(ours[:, pixel], np.interp(targets, times, frames[:, pixel], period=1000.0))


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least 2 phases"):
        resample_phases(np.zeros((1, 3, 3)), 25)
    with pytest.raises(ValueError, match="increasing"):
        resample_phases(np.zeros((3, 2)), 25, trigger_times_ms=[0.0, 10.0, 10.0])
    with pytest.raises(ValueError, match="ed_phase"):
        resample_phases(np.zeros((3, 2)), 25, ed_phase=3)
