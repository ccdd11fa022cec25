"""The field-of-view rule, the learned-detector hook and the replay of a recorded geometry."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.errors import ConfigError
from pscgan.io.image import ImageVolume
from pscgan.preprocessing.pipeline import PreprocessOptions, prepare_arrays
from pscgan.preprocessing.record import LocalisationRecord, to_original_geometry


def _subject(diameter_mm: float, spacing: float = 1.2, n: int = 120, centre=(70, 50)):  # noqa: ANN001, ANN202
    """A beating disc (cine) with ring labels whose epicardial diameter is ``diameter_mm``."""
    rr, cc = np.mgrid[:n, :n]
    d_mm = np.hypot(rr - centre[0], cc - centre[1]) * spacing
    t = np.arange(8)[:, None, None]
    frames = (d_mm[None] < diameter_mm / 2 * (0.8 - 0.1 * np.sin(np.pi * t / 8))).astype(np.float32) + 0.1
    labels = np.where(d_mm < diameter_mm / 2 * 0.7, 1, np.where(d_mm < diameter_mm / 2, 2, 0))
    labels = labels.astype(np.uint8)
    cine = ImageVolume(np.stack([frames.T] * 2, axis=2).astype(np.float32), spacing=(spacing, spacing, 8.0))
    lab = ImageVolume(np.stack([labels.T] * 2, axis=2), spacing=(spacing, spacing, 8.0))
    return cine, lab


@pytest.mark.parametrize("diameter", [50.0, 90.0])
def test_a_small_and_a_dilated_heart_fill_the_crop_alike(diameter: float) -> None:
    cine, lab = _subject(diameter)
    opts = PreprocessOptions(n_phases=8, crop_size=32, fov_heart_ratio=1.3, localisation="labels")
    out = prepare_arrays(cine, None, lab, opts)
    spacing = out[0].record.inplane.spacing_mm[0]
    assert spacing == pytest.approx(1.3 * diameter / 32, rel=0.03)
    lv_share = float((out[0].labels > 0).mean())  # the same share of the crop whatever the heart's size
    assert lv_share == pytest.approx(np.pi / 4 / 1.3**2, rel=0.08)
    back = to_original_geometry(out[0].labels, out[0].record, kind="labels")
    assert back.shape == (120, 120)
    ref = lab.array[:, :, 0].T
    inside = back > 0
    assert (inside & (ref > 0)).sum() / (ref > 0).sum() > 0.95  # inverted onto the original grid


def test_the_detector_hook_gives_centres_on_the_native_grid_and_needs_a_detector() -> None:
    cine, _ = _subject(60.0)

    def locator(frames, spacing_rc, ed_phase):  # noqa: ANN001, ANN202
        assert frames.shape == (8, 2, 120, 120) and ed_phase == 0
        found = LocalisationRecord(method="detector", centre_rc=(70.0, 50.0), confidence=0.9, size_mm=60.0)
        return [found] * 2

    opts = PreprocessOptions(n_phases=8, crop_size=32, fov_heart_ratio=1.3, localisation="detector")
    out = prepare_arrays(cine, options=opts, locator=locator)
    rec = out[0].record
    assert rec.localisation.method == "detector" and rec.localisation.confidence == 0.9
    box = rec.crop  # centred on the detector's centre, moved onto the resampled grid
    scale = rec.inplane.shape[0] / 120
    assert box.row0 + 16 == pytest.approx((70 + 0.5) * scale - 0.5, abs=1)
    assert box.col0 + 16 == pytest.approx((50 + 0.5) * scale - 0.5, abs=1)
    with pytest.raises(ConfigError, match="detector"):
        prepare_arrays(cine, options=opts)


def test_a_recorded_geometry_is_replayed_exactly() -> None:
    cine, lab = _subject(70.0, centre=(60, 64))
    opts = PreprocessOptions(n_phases=8, crop_size=32, fov_heart_ratio=1.3, localisation="labels")
    first = prepare_arrays(cine, None, lab, opts)
    again = prepare_arrays(cine, None, lab, PreprocessOptions(n_phases=8, crop_size=32, localisation="cine"),
                           geometry=[s.record for s in first])
    for a, b in zip(first, again):
        assert a.record.crop == b.record.crop and a.record.inplane == b.record.inplane
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_allclose(a.cine, b.cine)


def test_a_range_keeps_a_heart_that_fits_and_brings_a_dilated_one_to_the_nearer_bound() -> None:
    opts = PreprocessOptions(n_phases=8, crop_size=32, fov_heart_ratio=(1.1, 1.5), localisation="labels")
    cine, lab = _subject(30.0)  # 32 px x 1.2 mm / 30 mm = 1.28: within the range
    assert prepare_arrays(cine, None, lab, opts)[0].record.inplane is None
    cine, lab = _subject(80.0)  # 0.48: brought to 1.1
    spacing = prepare_arrays(cine, None, lab, opts)[0].record.inplane.spacing_mm[0]
    assert spacing == pytest.approx(1.1 * 80.0 / 32, rel=0.03)
    with pytest.raises(ConfigError, match="fov_heart_ratio"):
        PreprocessOptions(fov_heart_ratio=(1.5, 1.1))
