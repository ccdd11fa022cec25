"""Frames of the anatomy network: pairing, label maps, the slice pack."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pscgan.anatomy.frames import (
    AnatomyClass,
    PairedSlice,
    acdc_labels,
    acdc_slices,
    anatomy_labels,
    load_slices,
    partner_phase,
    save_slices,
    training_frames,
)
from pscgan.errors import InputError

ACDC = Path(__file__).resolve().parents[3] / "shared" / "data" / "acdc-edes"


def _slice(rng: np.random.Generator, second_labelled: bool) -> PairedSlice:
    shape = (int(rng.integers(20, 40)), int(rng.integers(20, 40)))
    return PairedSlice(
        "s",
        "s[0]",
        rng.uniform(-1, 1, shape).astype(np.float32),
        rng.uniform(-1, 1, shape).astype(np.float32),
        rng.integers(0, 3, shape).astype(np.uint8),
        rng.integers(0, 3, shape).astype(np.uint8) if second_labelled else None,
    )


def test_pack_round_trip_keeps_labels_and_frames_within_quantisation(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    slices = [_slice(rng, True), _slice(rng, False), _slice(rng, True)]
    save_slices(tmp_path / "p.npz", slices)
    back = load_slices(tmp_path / "p.npz")
    assert len(back) == 3
    for a, b in zip(slices, back):
        assert np.abs(a.first - b.first).max() <= 1 / 127.5 + 1e-6
        assert np.abs(a.second - b.second).max() <= 1 / 127.5 + 1e-6
        assert np.array_equal(a.labels_first, b.labels_first)
        assert (a.labels_second is None) == (b.labels_second is None)
    assert len(training_frames(back)) == 5  # two labelled frames, one, two


@pytest.mark.parametrize("content", [b"", b"not an npz", b"PK\x03\x04garbage"])
def test_a_broken_pack_is_refused_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.npz"
    path.write_bytes(content)
    with pytest.raises(InputError, match="broken.npz"):
        load_slices(path)


def test_label_maps_merge_scar_into_myocardium_and_drop_the_rv() -> None:
    assert anatomy_labels(np.array([0, 1, 2, 3])).tolist() == [0, 1, 2, 2]
    assert acdc_labels(np.array([0, 1, 2, 3])).tolist() == [
        0,
        0,
        AnatomyClass.MYOCARDIUM,
        AnatomyClass.BLOOD_POOL,
    ]


def test_partner_phase_is_the_phase_most_different_from_end_diastole() -> None:
    t = np.arange(24)[:, None, None]
    rr, cc = np.mgrid[:48, :48]
    radius = 10 - 4 * np.sin(np.pi * ((t - 3) % 24) / 24)  # smallest at phase 15
    frames = (np.hypot(rr - 24, cc - 24) < radius).astype(float) + 0.1
    assert partner_phase(frames, ed_phase=3) == 15


@pytest.mark.skipif(not ACDC.is_dir(), reason="ACDC ED/ES data not beside the checkout")
def test_acdc_slices_are_on_the_grid_with_both_frames_labelled() -> None:
    slices = list(acdc_slices(ACDC, ["patient001"], spacing_mm=2.0))
    assert len(slices) == 10  # patient001 has 10 slices
    s = slices[5]
    assert s.first.shape == s.second.shape == s.labels_first.shape == s.labels_second.shape
    # 216 x 256 pixels of 1.5625 mm -> about 200 x 169 pixels of 2 mm (rows follow y)
    assert s.first.shape == (200, 169)
    assert set(np.unique(s.labels_first)) <= {0, 1, 2} and (s.labels_first == AnatomyClass.BLOOD_POOL).any()
    assert -1.0 <= s.first.min() and s.first.max() <= 1.0
