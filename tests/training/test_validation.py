from __future__ import annotations

import numpy as np
import pytest

from pscgan.evaluation.segmentation import SegmentationMetrics
from pscgan.training.validation import pooled_dice


def _slices(n_scarred: int, n_clean: int) -> np.ndarray:
    ref = np.zeros((n_scarred + n_clean, 16, 16), np.uint8)
    ref[:, 3:13, 3:13] = 2
    ref[:, 5:11, 5:11] = 1
    ref[:n_scarred, 3:5, 3:13] = 3  # a subendocardial band on the scarred slices
    return ref


def test_pooled_dice_equals_a_direct_count():
    rng = np.random.default_rng(0)
    ref = _slices(3, 2)
    pred = ref.copy()
    flip = rng.random(pred.shape) < 0.1
    pred[flip] = rng.integers(0, 4, flip.sum())
    want = []
    for c in (1, 2, 3):
        tp = np.sum((pred == c) & (ref == c))
        want.append(2 * tp / (np.sum(pred == c) + np.sum(ref == c)))
    assert pooled_dice(pred, ref) == pytest.approx(np.mean(want))


def test_selection_score_prefers_finding_scar_to_never_predicting_it():
    # The per-slice mean ranks "never predict scar" above "find every scar, with a few false pixels on
    # clean slices"; the pooled score the trainer selects with ranks them the right way round.
    ref = _slices(3, 5)
    never = ref.copy()
    never[never == 3] = 2
    finds = ref.copy()
    finds[3:, 3, 3:5] = 3  # two false scar pixels on each clean slice

    def per_slice(pred):
        m = SegmentationMetrics(hd95=False)
        m(pred, ref)
        return m.aggregate()["overall"]["dice"].mean

    assert per_slice(never) > per_slice(finds)
    assert pooled_dice(finds, ref) > pooled_dice(never, ref)


def test_a_class_absent_everywhere_counts_as_found():
    ref = np.zeros((2, 8, 8), np.uint8)
    ref[:, 2:6, 2:6] = 2
    assert pooled_dice(ref, ref) == 1.0
