"""The batch checks shared by the segmentation and synthesis metrics give the same messages."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.evaluation import SegmentationMetrics, SynthesisMetrics
from pscgan.evaluation._checks import check_batch

METRICS = [lambda: SegmentationMetrics(hd95=False), SynthesisMetrics]


@pytest.mark.parametrize("make", METRICS, ids=["segmentation", "synthesis"])
@pytest.mark.parametrize(
    ("pred", "ref", "ids", "message"),
    [
        (
            (2, 8, 8),
            (2, 8, 9),
            None,
            r"prediction shape \(2, 8, 8\) differs from reference shape \(2, 8, 9\)",
        ),
        (
            (2, 1, 8, 8),
            (2, 1, 8, 8),
            None,
            r"prediction must be \(H, W\) or \(B, H, W\), got shape \(2, 1, 8, 8\)",
        ),
        ((8,), (8, 8), None, r"prediction must be \(H, W\) or \(B, H, W\)"),
        ((8, 8), (1, 1, 8, 8), None, r"reference must be"),
        ((2, 8, 8), (2, 8, 8), ["a"], r"1 ids given for a batch of 2 samples"),
    ],
)
def test_bad_batches_are_refused_with_the_same_message(make, pred, ref, ids, message):
    metric = make()
    with pytest.raises(ValueError, match=message):
        metric(np.zeros(pred), np.zeros(ref), ids=ids)
    assert metric.samples == []


def test_single_images_become_a_batch_of_one_each():
    pred, ref = check_batch(np.zeros((8, 8)), np.ones((1, 8, 8)))
    assert pred.shape == ref.shape == (1, 8, 8)
    seg = SegmentationMetrics(hd95=False)
    seg(np.full((8, 8), 2), np.full((1, 8, 8), 2), ids=["x"])
    assert seg.aggregate()["per_class"]["healthy_myocardium"]["dice"].mean == 1.0
