"""From probabilities to one LV per slice."""

from __future__ import annotations

import numpy as np

from pscgan.anatomy.localise import locate_from_probabilities, ring_closure


def _ring(shape: tuple[int, int], centre: tuple[float, float], r_in: float, r_out: float,
          gap: bool = False) -> np.ndarray:
    rr, cc = np.mgrid[:shape[0], :shape[1]]
    d = np.hypot(rr - centre[0], cc - centre[1])
    labels = np.zeros(shape, np.uint8)
    labels[d < r_in] = 1
    labels[(d >= r_in) & (d < r_out)] = 2
    if gap:
        labels[(labels == 2) & (cc > centre[1]) & (np.abs(rr - centre[0]) < r_out / 2)] = 0
    return labels


def _probs(labels: np.ndarray) -> np.ndarray:
    return np.stack([(labels == c).astype(np.float32) for c in range(3)])


def test_the_lv_nearest_the_stack_is_chosen_over_a_larger_decoy() -> None:
    stack = [_ring((100, 100), (50, 30), 8, 12) for _ in range(4)]
    decoy = np.maximum(_ring((100, 100), (50, 30), 8, 12), _ring((100, 100), (50, 80), 10, 14))
    probs = np.stack([_probs(x) for x in stack + [decoy]])
    recs = locate_from_probabilities(probs, (1.0, 1.0))
    assert all(r.method == "detector" for r in recs)
    assert all(abs(r.centre_rc[1] - 30) < 1 for r in recs)
    assert abs(recs[0].size_mm - 24) < 1.5 and recs[0].confidence > 0.95


def test_a_slice_without_heart_gets_the_stack_centre_and_no_confidence() -> None:
    probs = np.stack([_probs(_ring((60, 60), (20, 25), 6, 9)), _probs(np.zeros((60, 60), np.uint8))])
    recs = locate_from_probabilities(probs, (1.5, 1.5))
    assert recs[1].method == "detector-stack" and recs[1].confidence == 0.0
    assert np.allclose(recs[1].centre_rc, recs[0].centre_rc, atol=1)


def test_ring_closure_is_one_for_a_ring_and_less_for_an_open_one() -> None:
    assert ring_closure(_ring((60, 60), (30, 30), 8, 12)) == 1.0
    assert 0.5 < ring_closure(_ring((60, 60), (30, 30), 8, 12, gap=True)) < 1.0
    assert ring_closure(np.zeros((10, 10), np.uint8)) == 0.0
