"""Fuzzed DICOM series: every generated folder is read into a valid volume or refused with an InputError.

Small valid series (1-3 slices, 1-4 phases, up to 6 x 6 pixels) are written with pydicom, then tags are
removed or given inconsistent or malformed values in one file or in all of them (Rows/Columns against the
pixel data length, BitsAllocated, mixed matrix sizes, missing TriggerTime, duplicate instance numbers,
non-numeric spacing strings, NaN positions, multi-frame and colour declarations, compressed transfer
syntaxes over raw data, ...) and files are damaged (truncated, bytes flipped, emptied, replaced by
garbage) or joined by non-DICOM files.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pscgan.errors import InputError
from pscgan.io.dicom import read_dicom_series
from pscgan.io.reader import read_image

FUZZ = settings.get_profile("fuzz")
# nibabel, pydicom, numpy and scikit-image warn about the hostile inputs on their way to an answer.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
REMOVABLE = ["Rows", "Columns", "PixelSpacing", "ImageOrientationPatient", "ImagePositionPatient",
             "TriggerTime", "InstanceNumber", "SeriesInstanceUID", "BitsAllocated", "BitsStored",
             "PixelData", "RescaleSlope", "PhotometricInterpretation", "SamplesPerPixel",
             "PixelRepresentation", "SliceThickness", "NominalInterval"]
#: Tag -> values (strings as they would appear in a file) that are malformed, inconsistent or hostile.
ODD_VALUES = {
    "Rows": [0, 1, 7, 65535], "Columns": [0, 1, 7, 65535],
    "BitsAllocated": [0, 1, 8, 12, 32, 64], "BitsStored": [0, 4, 17], "PixelRepresentation": [1, 2],
    "SamplesPerPixel": [0, 3], "PhotometricInterpretation": ["RGB", "PALETTE COLOR", "MONOCHROME1"],
    "PixelSpacing": ["abc", "0\\1", "-1\\1", "nan\\1", "inf\\1", "1", "1\\2\\3", "1e400\\1", "1.5\\1.5"],
    "ImageOrientationPatient": ["abc\\0\\0\\0\\1\\0", "1\\0\\0", "0\\0\\0\\0\\0\\0", "1\\0\\0\\1\\0\\0",
                                "nan\\0\\0\\0\\1\\0", "1\\0\\0\\0\\1\\0"],
    "ImagePositionPatient": ["abc\\0\\0", "1\\2", "nan\\0\\0", "inf\\0\\0", "0\\0\\0", "1e308\\0\\0"],
    "TriggerTime": ["abc", "", "nan", "0", "-5", "inf", "1e308"],
    "InstanceNumber": ["x", "1", "-3", "", "99999999999999999999"],
    "NumberOfFrames": ["2", "abc", "0", "1", "-1"],
    "RescaleSlope": ["abc", "nan", "1e39", "0", "-1"], "RescaleIntercept": ["abc", "inf", "1e39"],
    "SliceThickness": ["abc", "nan", "-3", "0"], "SpacingBetweenSlices": ["abc", "nan", "-3", "0", "inf"],
    "NominalInterval": ["abc", "-5", "nan", "inf"], "SeriesInstanceUID": ["1.2.3.5", "1.2.3.4"],
}
#: Transfer syntaxes as long as Explicit VR Little Endian's UID, written over it in the saved file: big
#: endian, RLE lossless (compressed: the raw pixel data is not encapsulated), a private syntax.
EXPLICIT_LE = b"1.2.840.10008.1.2.1\0"
SYNTAXES = [b"1.2.840.10008.1.2.2\0", b"1.2.840.10008.1.2.5\0", b"1.2.3.4.5.6.7.8.9.1\0"]


def _as_element(ds, tag: str, value) -> None:  # noqa: ANN001 - a pydicom Dataset
    """Set ``tag`` to ``value``; text goes in as raw bytes of VR UN, which the reader turns back into the
    tag's own VR, so that malformed numbers reach it as they would from a faulty file."""
    if isinstance(value, str):
        raw = value.encode() + (b" " if len(value) % 2 else b"")
        ds.add_new(tag, "UN", raw)
    else:
        setattr(ds, tag, value)


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple]:
    """Up to four edits, each applied to one file (by index) or to all files (index None)."""
    edits = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["value", "value", "delete", "pixels", "matrix", "syntax"]))
        target = draw(st.one_of(st.none(), st.integers(0, 11)))
        if kind == "value":
            tag = draw(st.sampled_from(sorted(ODD_VALUES)))
            edits.append(("value", target, tag, draw(st.sampled_from(ODD_VALUES[tag]))))
        elif kind == "delete":
            edits.append(("delete", target, draw(st.sampled_from(REMOVABLE)), None))
        elif kind == "pixels":
            edits.append(("pixels", target, None, draw(st.sampled_from(["half", "extra", "empty"]))))
        elif kind == "matrix":
            edits.append(("matrix", target, None, draw(st.integers(1, 3))))
        else:
            edits.append(("syntax", target, None, draw(st.sampled_from(SYNTAXES))))
    return edits


def _apply(ds, edit: tuple) -> None:  # noqa: ANN001
    kind, _, tag, value = edit
    if kind == "value":
        _as_element(ds, tag, value)
    elif kind == "delete":
        if tag in ds:
            del ds[tag]
    elif kind == "pixels":
        data = bytes(ds.PixelData) if "PixelData" in ds else b""
        ds.PixelData = {"half": data[: len(data) // 2], "extra": data + b"\1\2\3\4", "empty": b""}[value]
    elif kind == "matrix":  # a consistent image of another size: mixed sizes within the series
        ds.Rows = int(ds.Rows) + value if "Rows" in ds else value
        ds.PixelData = np.full((int(ds.Rows), int(ds.get("Columns", 1))), 9, np.uint16).tobytes()


@st.composite
def dicom_series(draw: st.DrawFn) -> dict:
    """The recipe of a possibly broken series: sizes, tag edits and file damage."""
    return {
        "n_slices": draw(st.integers(1, 3)), "n_phases": draw(st.integers(1, 4)),
        "rows": draw(st.integers(1, 6)), "cols": draw(st.integers(1, 6)),
        "triggers": draw(st.booleans()), "seed": draw(st.integers(0, 2**32 - 1)),
        "edits": draw(mutations()),
        "damage": draw(st.sampled_from(["none"] * 4 + ["truncate", "flip", "empty", "garbage", "extra-file",
                                                       "no-preamble"])),
        "where": draw(st.floats(0.0, 1.0)),
    }


def write_series(folder: Path, recipe: dict, dicom_kit) -> list[Path]:  # noqa: ANN001
    from pydicom import config

    rng = np.random.default_rng(recipe["seed"])
    n_slices, n_phases = recipe["n_slices"], recipe["n_phases"]
    positions = dicom_kit.slice_positions(n_slices)
    paths = []
    previous = config.settings.writing_validation_mode, config.replace_un_with_known_vr
    config.settings.writing_validation_mode, config.replace_un_with_known_vr = config.IGNORE, False
    try:
        for i, (k, t) in enumerate((k, t) for k in range(n_slices) for t in range(n_phases)):
            pixels = rng.integers(0, 4000, (recipe["rows"], recipe["cols"]), dtype=np.uint16)
            ds = dicom_kit.make_dataset(pixels, position=positions[k],
                                        trigger_ms=40.0 * t if recipe["triggers"] else None,
                                        instance=k * n_phases + t + 1)
            for edit in recipe["edits"]:
                if edit[1] is None or edit[1] % (n_slices * n_phases) == i:
                    _apply(ds, edit)
            if "PixelData" in ds:  # pydicom picks OB/OW from BitsAllocated, which an edit may have removed
                ds["PixelData"].VR = "OW"
            path = folder / f"IM{i:04d}.dcm"
            ds.save_as(path, enforce_file_format=recipe["damage"] != "no-preamble")
            for edit in recipe["edits"]:
                if edit[0] == "syntax" and (edit[1] is None or edit[1] % (n_slices * n_phases) == i):
                    path.write_bytes(path.read_bytes().replace(EXPLICIT_LE, edit[3], 1))
            paths.append(path)
    finally:
        config.settings.writing_validation_mode, config.replace_un_with_known_vr = previous
    return paths


def damage(paths: list[Path], recipe: dict) -> None:
    how, victim = recipe["damage"], paths[int(recipe["where"] * (len(paths) - 1))]
    raw = victim.read_bytes()
    rng = np.random.default_rng(recipe["seed"])
    if how == "truncate":
        victim.write_bytes(raw[: int(len(raw) * recipe["where"])])
    elif how == "flip":
        buf = bytearray(raw)
        for pos in rng.integers(0, len(buf), size=1 + recipe["seed"] % 8):
            buf[pos] ^= int(rng.integers(1, 256))
        victim.write_bytes(bytes(buf))
    elif how == "empty":
        victim.write_bytes(b"")
    elif how == "garbage":
        victim.write_bytes(b"\0" * 128 + b"DICM" + rng.bytes(200))
    elif how == "extra-file":
        (victim.parent / "notes.txt").write_text("scanned on the research scanner")


@settings(FUZZ, max_examples=500)
@given(recipe=dicom_series(), kind=st.sampled_from(["matching", "matching", "matching", "cine", "image"]),
       via=st.sampled_from(["series", "series", "image", "one-file"]))
def test_fuzzed_dicom_series_is_read_or_refused(fuzz_cases, dicom_kit, tmp_path, recipe, kind, via):
    folder = Path(tempfile.mkdtemp(prefix="series", dir=tmp_path))  # a new folder per example, kept
    if kind == "matching":  # the kind the series was written as (before its damage)
        kind = "cine" if recipe["n_phases"] > 1 else "image"
    paths = write_series(folder, recipe, dicom_kit)
    damage(paths, recipe)
    ndims = (4,) if kind == "cine" else (3,)
    if via == "series":
        vol = fuzz_cases.run(lambda: read_dicom_series(folder, kind), folder, ndims)
    elif via == "image":
        vol = fuzz_cases.run(lambda: read_image(folder, "cine" if kind == "cine" else "lge"), folder, ndims)
    else:
        vol = fuzz_cases.run(lambda: read_dicom_series(paths[0], kind), paths[0], ndims)
    if vol is not None:
        assert vol.array.dtype == np.float32
        if kind == "cine":
            assert vol.array.shape[3] >= 2


def test_series_declaring_100_gib_is_refused_before_pixels_are_decoded(tmp_path, monkeypatch, dicom_kit):
    """25 phases of 65535 x 65535 pixels (430 GB as float32) in files holding 4 pixels each."""
    import pscgan.io.dicom as dicom_module

    def no_decoding(*args, **kwargs):
        raise AssertionError("pixel data decoded despite an oversized series")

    monkeypatch.setattr(dicom_module, "_read_pixels", no_decoding)
    for t in range(25):
        ds = dicom_kit.make_dataset(np.zeros((2, 2), np.uint16), position=np.zeros(3), trigger_ms=40.0 * t,
                                    instance=t + 1)
        ds.Rows = ds.Columns = 65535
        ds.save_as(tmp_path / f"IM{t:02d}.dcm", enforce_file_format=True)
    with pytest.raises(InputError, match="GiB") as err:
        read_dicom_series(tmp_path, kind="cine")
    assert err.value.path == tmp_path


def test_non_numeric_pixel_spacing_is_refused_naming_the_file(tmp_path, dicom_kit):
    from pydicom import config

    recipe = {"n_slices": 1, "n_phases": 2, "rows": 4, "cols": 4, "triggers": True, "seed": 0,
              "edits": [("value", 1, "PixelSpacing", "abc")], "damage": "none", "where": 0.0}
    paths = write_series(tmp_path, recipe, dicom_kit)
    assert config.replace_un_with_known_vr  # the writer restored pydicom's settings
    with pytest.raises(InputError, match="PixelSpacing") as err:
        read_dicom_series(tmp_path, kind="cine")
    assert err.value.path == paths[1]
