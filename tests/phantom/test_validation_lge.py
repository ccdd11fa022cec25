from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.phantom.validation_lge import compare_lge, reference_samples, slice_samples

EMIDEC = Path(__file__).resolve().parents[1] / "data" / "emidec-samples"


def test_normalisation_is_affine_invariant():
    """Real files may store zero signal at an offset (the EMIDEC samples do): the normalisation ignores it."""
    rng = np.random.default_rng(1)
    labels = np.zeros((40, 40), np.uint8)
    labels[5:35, 5:35] = 2
    labels[12:28, 12:28] = 1
    labels[5:35, 5:9] = 3
    image = np.choose(labels, [30.0, 100.0, 5.0, 120.0]) + rng.normal(0, 2, labels.shape)
    a, b = slice_samples(image, labels), slice_samples(3.0 * image + 2048.0, labels)
    for name in a:
        assert np.allclose(a[name], b[name])
    assert np.median(a["myocardium"]) == pytest.approx(0.0, abs=0.05)
    assert np.median(a["scar"]) == pytest.approx((120 - 5) / (100 - 5), abs=0.05)


def test_reference_folder_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        reference_samples(tmp_path / "missing")
    with pytest.raises(InputError, match="no reference cases"):
        reference_samples(tmp_path)
    samples = reference_samples(EMIDEC)
    assert set(samples) == {"sampleNegative", "samplePositive"}


def test_distances_between_identical_samples_are_zero():
    ref = reference_samples(EMIDEC)
    out = compare_lge(ref["samplePositive"], ref)
    scar = out["tissues"]["scar"]
    assert scar["wasserstein_phantom_vs_reference"] == pytest.approx(0.0, abs=1e-12)  # only one case has scar
    assert out["tissues"]["blood"]["wasserstein_between_reference_cases"] > 0
