"""Segmentation metrics, cross-checked against MONAI on the same arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pscgan.evaluation.segmentation import SegmentationMetrics, confusion_counts, hd95_mm


def _random_maps(seed, n=6, size=32):
    rng = np.random.default_rng(seed)
    ref = np.zeros((n, size, size), np.uint8)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        cy, cx = rng.uniform(12, 20, 2)
        r = np.hypot(yy - cy, xx - cx)
        ref[i][r < 10] = 2
        ref[i][r < 6] = 1
        ref[i][(r >= 6) & (r < 10) & (xx > cx + 2)] = 3
    pred = ref.copy()
    flip = rng.random(ref.shape) < 0.08
    pred[flip] = rng.integers(0, 4, flip.sum())
    return pred, ref


def test_confusion_counts_match_monai():
    from monai.metrics import get_confusion_matrix
    from monai.networks.utils import one_hot

    pred, ref = _random_maps(0)
    ours = np.stack([confusion_counts(p, r) for p, r in zip(pred, ref)])
    p1 = one_hot(torch.from_numpy(pred[:, None].astype(np.int64)), 4)
    r1 = one_hot(torch.from_numpy(ref[:, None].astype(np.int64)), 4)
    theirs = get_confusion_matrix(p1, r1, include_background=True).numpy()  # (B, C, [TP, FP, TN, FN])
    np.testing.assert_array_equal(ours, theirs)


def test_dice_matches_monai_dice_metric():
    from monai.metrics import DiceMetric
    from monai.networks.utils import one_hot

    pred, ref = _random_maps(1)
    m = SegmentationMetrics(hd95=False)
    m(pred, ref)
    agg = m.aggregate()
    dm = DiceMetric(include_background=True, reduction="none")
    p1 = one_hot(torch.from_numpy(pred[:, None].astype(np.int64)), 4)
    r1 = one_hot(torch.from_numpy(ref[:, None].astype(np.int64)), 4)
    theirs = dm(p1, r1).numpy()
    for c, name in enumerate(["other", "lv_blood_pool", "healthy_myocardium", "scar"]):
        assert agg["per_class"][name]["dice"].mean == pytest.approx(theirs[:, c].mean(), abs=1e-6)


def test_hd95_matches_brute_force_with_anisotropic_spacing():
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(3)
    a = rng.random((20, 20)) < 0.1
    b = rng.random((20, 20)) < 0.1
    spacing = (1.3, 1.7)

    def boundary(mask):
        from scipy.ndimage import binary_erosion

        return np.argwhere(mask & ~binary_erosion(mask)) * np.array(spacing)

    d = cdist(boundary(a), boundary(b))
    expected = max(np.percentile(d.min(axis=1), 95), np.percentile(d.min(axis=0), 95))
    assert hd95_mm(a, b, spacing) == pytest.approx(expected, rel=1e-5)


def test_empty_masks_are_undefined_not_zero():
    ref = np.zeros((2, 16, 16), np.uint8)
    ref[0, 4:8, 4:8] = 3  # sample 0 has scar, sample 1 none
    pred = ref.copy()
    m = SegmentationMetrics()
    m(pred, ref, spacing=[(1.5, 1.5)] * 2)
    scar = m.aggregate()["per_class"]["scar"]
    assert scar["dice"].mean == 1.0 and scar["dice"].n == 1 and scar["dice"].n_undefined == 1
    assert scar["hd95_mm"].mean == 0.0 and scar["hd95_mm"].n_undefined == 1
    assert scar["specificity"].n == 2


def test_perfect_and_hand_made_values():
    ref = np.zeros((1, 4, 4), np.uint8)
    ref[0, :2, :] = 1            # 8 blood-pool pixels
    pred = ref.copy()
    pred[0, 0, 0] = 0            # one missed
    m = SegmentationMetrics(hd95=False)
    m(pred, ref)
    bp = m.aggregate()["per_class"]["lv_blood_pool"]
    assert bp["sensitivity"].mean == pytest.approx(7 / 8)
    assert bp["specificity"].mean == 1.0
    assert bp["dice"].mean == pytest.approx(14 / 15)
    assert bp["accuracy"].mean == pytest.approx(15 / 16)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differs"):
        SegmentationMetrics()(np.zeros((1, 4, 4)), np.zeros((1, 4, 5)))


def test_hd95_does_not_pass_monai_internal_deprecation_warnings_to_the_user():
    import warnings

    a = np.zeros((16, 16), bool)
    a[4:9, 4:9] = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # past the test suite's own filters
        hd95_mm(a, np.roll(a, 2, axis=0), (1.0, 1.0))
    assert not [w for w in caught if "always_return_as_numpy" in str(w.message)]
