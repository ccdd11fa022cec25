"""Rule breaks of real scanner DICOM: read without pydicom's per-value warnings, reported once."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pscgan.io.dicom import read_dicom_series
from pscgan.io.dicom_quirks import is_valid_uid, quiet_uid_warnings, series_frame_of_reference


def _uid_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "VR UI" in str(w.message)]


def test_uid_rules() -> None:
    assert is_valid_uid("1.2.840.10008.5.1.4.1.1.4") and is_valid_uid("0.1.2") and is_valid_uid("2.25.0")
    assert not is_valid_uid("2.16.124.05") and not is_valid_uid("1.2.a") and not is_valid_uid("1." + "1" * 63)


def test_frame_of_reference_choice() -> None:
    assert series_frame_of_reference(["1.1", "1.1"]) == ("1.1", 1)
    assert series_frame_of_reference(["1.2", "1.1", "1.1", None]) == ("1.1", 2)
    assert series_frame_of_reference(["1.3", "1.2", "1.1"]) == ("1.3", 3)  # a tie: the first file's
    assert series_frame_of_reference([None, ""]) == (None, 0)


def test_warnings_are_quiet_only_inside_the_block(caplog: pytest.LogCaptureFixture) -> None:
    from pydicom.dataelem import DataElement

    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG, logger="pydicom"):
        warnings.simplefilter("always")
        with quiet_uid_warnings():
            DataElement(0x00080018, "UI", "1.02")
            warnings.warn("another warning", UserWarning, stacklevel=1)  # others pass
        assert _uid_warnings(caught) == [] and "VR UI" not in caplog.text
        assert [str(w.message) for w in caught] == ["another warning"]
        DataElement(0x00080018, "UI", "1.03")  # the filters are gone after the block
    assert len(_uid_warnings(caught)) == 1 and "VR UI" in caplog.text


def _scanner_quirks(ds: Any, k: int, t: int) -> Any:
    """What anonymised scanner exports look like: a leading zero in UIDs, one frame of reference per file."""
    ds.SeriesInstanceUID = "2.16.124.113543.6006.99.0897"
    ds.StudyInstanceUID = "2.16.124.113543.6006.99.0898"
    ds.FrameOfReferenceUID = f"2.16.124.113543.6006.99.0{k}{t:02d}"
    return ds


def test_scanner_quirks_are_reported_once(write_series: Callable[..., tuple[Path, np.ndarray]],
                                          caplog: pytest.LogCaptureFixture) -> None:
    with warnings.catch_warnings():  # writing the test series is not what is tested
        warnings.simplefilter("ignore")
        folder, images = write_series(edit=_scanner_quirks)
    caplog.clear()
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        vol = read_dicom_series(folder, kind="cine")
    assert _uid_warnings(caught) == [] and "VR UI" not in caplog.text
    np.testing.assert_array_equal(vol.array[:, :, 1, 3], images[1, 3].T)
    n_files = images.shape[0] * images.shape[1]
    assert vol.meta["files_with_invalid_uids"] == n_files
    assert vol.meta["frame_of_reference_uid_count"] == n_files
    assert vol.meta["frame_of_reference_uid"] == "2.16.124.113543.6006.99.0000"  # slice 0, phase 0
    assert vol.meta["notes"] == [
        f"{n_files} source files have UIDs that do not follow DICOM rules (e.g. a component starts with 0); "
        "they are read as they are",
        f"the series' {n_files} files carry {n_files} different FrameOfReferenceUIDs (DICOM wants one per "
        "series); the outputs use the most frequent one, the first slice's in a tie"]


def test_a_clean_series_has_no_notes(write_series: Callable[..., tuple[Path, np.ndarray]]) -> None:
    folder, _ = write_series()
    vol = read_dicom_series(folder, kind="cine")
    assert vol.meta["notes"] == [] and vol.meta["files_with_invalid_uids"] == 0
    assert vol.meta["frame_of_reference_uid"] == "1.2.3.9" and vol.meta["frame_of_reference_uid_count"] == 1
