from __future__ import annotations

import numpy as np
import pytest

from pscgan.phantom.validation_measure import interior, shading_corrected, tissue_medians


def _ring_labels() -> np.ndarray:
    rows, cols = np.indices((64, 64))
    r = np.hypot(rows - 32, cols - 32)
    labels = np.where(r < 14, 1, np.where(r < 20, 2, 0)).astype(np.uint8)
    labels[(r >= 14) & (r < 17) & (rows < 24)] = 3  # anterior subendocardial scar
    return labels


def test_interior_excludes_the_tissue_border():
    labels = _ring_labels()
    blood = interior(labels == 1)
    assert blood.sum() > 0 and not np.any(blood & (labels != 1))
    # no interior blood pixel touches another tissue
    rows, cols = np.nonzero(blood)
    assert all(np.all(labels[r - 1:r + 2, c - 1:c + 2] == 1) for r, c in zip(rows, cols))


def test_shading_correction_recovers_ratios_under_a_coil_gradient():
    labels = _ring_labels()
    rows, _ = np.indices(labels.shape)
    shading = 1.3 - 0.6 * rows / 63.0  # brighter anteriorly (top), 60 % peak to peak
    truth = np.choose(labels, [50.0, 300.0, 100.0, 95.0])
    image = truth * shading
    raw = tissue_medians(image, labels)
    fixed = tissue_medians(shading_corrected(image, labels), labels)
    # the anterior scar sits in the bright part of the image: uncorrected it looks brighter than myocardium
    assert raw["scar"] / raw["myocardium"] > 1.05
    assert fixed["scar"] / fixed["myocardium"] == pytest.approx(0.95, abs=0.01)
    assert fixed["blood"] / fixed["myocardium"] == pytest.approx(3.0, abs=0.03)


def test_too_little_tissue_gives_no_value():
    labels = np.zeros((16, 16), np.uint8)
    labels[4:8, 4:8] = 1
    assert tissue_medians(np.ones((16, 16)), labels) == {"blood": None, "myocardium": None, "scar": None}
    assert shading_corrected(np.ones((16, 16)), labels) is None
