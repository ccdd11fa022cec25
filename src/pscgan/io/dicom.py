"""DICOM series reading (pydicom): cine stacks and single-frame image stacks such as LGE.

A cine folder usually holds one file per (slice, phase). Files are grouped by slice position, the
ImagePositionPatient projected on the slice normal (the cross product of the two ImageOrientationPatient
directions), and phases are sorted by TriggerTime (InstanceNumber when TriggerTime is absent). The
result follows the canonical axes: ``(x, y, slice, time)`` for a cine and ``(x, y, slice)`` for an image
stack, with ``x`` along the DICOM row direction (columns of the stored image) and ``y`` along the column
direction, so the display image of slice ``k`` is ``volume[:, :, k].T``, exactly the stored DICOM image.
Slices are ordered by increasing position along the normal.

The affine maps voxel indices to RAS+ millimetres (DICOM patient coordinates are LPS+, hence the sign flip
of the first two world axes). RescaleSlope/RescaleIntercept are applied. Patient identifiers (name, id,
birth date, ...) are neither logged nor stored: ``meta`` keeps only the geometry, timing and the UIDs needed
to write derived DICOM objects later.

Real scanner series are read as the scanner wrote them: one folder may hold every slice and every phase
of a cine in one series, in any file order, with trigger times that differ slightly between slices (the
phase's mean is kept). Rule breaks that do not affect the images (UIDs that do not follow DICOM rules,
several FrameOfReferenceUIDs in one series) are tolerated without pydicom's per-value warnings and
reported once, in ``meta["notes"]`` (see :mod:`pscgan.io.dicom_quirks`).

Enhanced (multi-frame) DICOM is not supported; convert such series to NIfTI first (e.g. with dcm2niix).

Example:
    >>> from pathlib import Path
    >>> vol = read_dicom_series(Path("cine_folder"), kind="cine")  # doctest: +SKIP
    >>> vol.array.shape, vol.meta["trigger_times_ms"][:2]  # doctest: +SKIP
    ((256, 208, 12, 30), [0.0, 32.5])
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from pscgan.errors import InputError
from pscgan.io.dicom_quirks import (
    frame_of_reference_note,
    has_invalid_uid,
    invalid_uid_note,
    quiet_uid_warnings,
    series_frame_of_reference,
)
from pscgan.io.image import ImageVolume, check_declared_size

#: Two slices closer than this along the normal (mm) are the same slice position.
POSITION_TOLERANCE_MM = 0.01
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
#: A DICOM file and its header (pixel data deferred).
_Item = tuple[Path, Any]
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)  # PixelData, FloatPixelData, DoubleFloatPixelData
_REQUIRED_TAGS = ("SeriesInstanceUID", "Rows", "Columns", "ImageOrientationPatient", "ImagePositionPatient",
                  "PixelSpacing")


class SeriesKind(str, Enum):
    """What a DICOM series is expected to hold."""

    CINE = "cine"  # several phases per slice position
    IMAGE = "image"  # one image per slice position (LGE)


def read_dicom_series(source: str | Path | Sequence[str | Path], kind: SeriesKind | str = SeriesKind.CINE,
                      *, series_uid: str | None = None) -> ImageVolume:
    """Read one DICOM series into an :class:`ImageVolume`.

    Args:
        source: a folder (its files, not sub-folders, are read; non-DICOM files are skipped) or a list
            of DICOM files.
        kind: ``"cine"`` for ``(x, y, slice, time)`` or ``"image"`` for ``(x, y, slice)``.
        series_uid: pick this SeriesInstanceUID when the folder holds several series.

    Returns:
        The volume (float32) with ``spacing`` (x, y, slice) in mm, a RAS+ ``affine`` and ``meta`` holding
        ``series_instance_uid``, ``study_instance_uid``, ``frame_of_reference_uid``, ``sop_instance_uids``
        (per slice, per phase for a cine), ``image_orientation_patient``, ``image_positions_patient`` (per
        slice), ``slice_positions_mm``, ``slice_thickness_mm``, and for a cine ``trigger_times_ms`` (per
        phase, mean over slices; ``None`` when ordered by InstanceNumber), ``trigger_times_ms_per_slice``,
        ``rr_interval_ms`` (NominalInterval, if present). ``frame_of_reference_uid`` is the series' most
        frequent one (see :func:`pscgan.io.dicom_quirks.series_frame_of_reference`), with
        ``frame_of_reference_uid_count`` distinct ones; ``files_with_invalid_uids`` counts the files whose
        UIDs break the DICOM rules, and ``notes`` holds one plain line per rule break tolerated (empty
        for a clean series).

    Raises:
        InputError: naming the folder or file: no DICOM files, several series, mixed matrix sizes or
            orientations, missing required tags, duplicate or missing phases, a single phase for a cine,
            several images at one position for an image series, undecodable (compressed) pixel data.
    """
    kind = SeriesKind(kind)
    where, files = _list_files(source)
    # Real scanner files often carry UIDs that break the DICOM rules; pydicom would warn for each value.
    with quiet_uid_warnings():
        return _read_series(where, files, kind, series_uid)


def _read_series(where: Path, files: list[Path], kind: SeriesKind, series_uid: str | None) -> ImageVolume:
    headers = _read_headers(where, files)
    headers = _select_series(where, headers, series_uid)
    _check_consistent(where, headers)
    geometry = _geometry(*headers[0])
    groups = _group_by_position(headers, geometry["normal"])
    positions = sorted(groups)
    if kind is SeriesKind.CINE:
        ordered, trigger = _order_phases(where, groups, positions)
    else:
        ordered, trigger = _one_per_position(where, groups, positions), None
    n_slices, n_phases = len(ordered), len(ordered[0])
    rows, cols = int(headers[0][1].Rows), int(headers[0][1].Columns)
    check_declared_size(where, (cols, rows, n_slices, n_phases), 4)
    data = np.empty((cols, rows, n_slices, n_phases), np.float32)
    for k, slice_files in enumerate(ordered):
        for t, (path, ds) in enumerate(slice_files):
            data[:, :, k, t] = _read_pixels(path, ds, rows, cols).T
    if kind is SeriesKind.IMAGE:
        data = data[..., 0]
    first = [slice_files[0][1] for slice_files in ordered]
    affine, spacing, slice_positions = _affine(geometry, first, positions)
    if not (np.all(np.isfinite(affine)) and np.all(np.isfinite(spacing))):
        raise InputError(where, f"ImagePositionPatient values {slice_positions[:4]} give no finite geometry")
    meta = _meta(kind, ordered, first, geometry, slice_positions, trigger)
    meta.update(_quirks(ordered))
    return ImageVolume(data, spacing=spacing, affine=affine, source=where, meta=meta)


def _list_files(source: str | Path | Sequence[str | Path]) -> tuple[Path, list[Path]]:
    if isinstance(source, (str, Path)):
        folder = Path(source)
        if not folder.exists():
            raise InputError(folder, "DICOM folder not found")
        if folder.is_file():
            return folder, [folder]
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise InputError(folder, "folder holds no files (expected a DICOM series)")
        return folder, files
    files = [Path(p) for p in source]
    if not files:
        raise InputError(None, "empty list of DICOM files")
    for p in files:
        if not p.is_file():
            raise InputError(p, "file not found")
    return files[0].parent, files


def _read_headers(where: Path, files: list[Path]) -> list[_Item]:
    import pydicom
    from pydicom.errors import InvalidDicomError

    headers, skipped = [], []
    for path in files:
        if path.name.upper() == "DICOMDIR":
            continue
        try:
            # Large values (the pixel data) are deferred: read from disk only when decoded.
            ds = pydicom.dcmread(path, defer_size=1024)
            # pydicom decodes each element on first access, where a damaged one raises anything; decode
            # the header now (not the pixel data) so that every later access is safe.
            for tag in [t for t in ds.keys() if t not in _PIXEL_TAGS]:
                ds[tag]  # noqa: B018 - the access is the decoding
        except InvalidDicomError:
            skipped.append(path.name)  # other files beside the series (notes, thumbnails) are ignored
            continue
        except Exception as exc:
            raise InputError(path, f"unreadable DICOM file ({type(exc).__name__}: {exc})") from None
        if not any(tag in ds for tag in _PIXEL_TAGS):
            continue  # presentation states, reports, ...
        headers.append((path, ds))
    if not headers:
        detail = (f"; {len(skipped)} file(s) skipped as not DICOM (no 'DICM' marker at byte 128), e.g. "
                  f"{skipped[0]}" if skipped else "")
        raise InputError(where, f"no DICOM image files found{detail}")
    for path, ds in headers:
        missing = [tag for tag in _REQUIRED_TAGS if tag not in ds or ds[tag].value in (None, "")]
        if missing:
            raise InputError(path, f"missing required DICOM tags: {', '.join(missing)}")
        _check_values(path, ds)
        if _optional(path, ds, "NumberOfFrames", 1) > 1:
            raise InputError(path, "enhanced multi-frame DICOM is not supported; convert the series to "
                                   "NIfTI (e.g. with dcm2niix) and read that")
        if _optional(path, ds, "SamplesPerPixel", 1) != 1:
            raise InputError(path, "colour DICOM images are not supported (expected one sample per pixel)")
    return headers


def _check_values(path: Path, ds: Any) -> None:
    """Refuse malformed values of the tags the reader computes with, so that later uses cannot fail.

    Files in the wild carry text such as ``"abc"`` in numeric tags (pydicom keeps it and warns).
    """
    _numbers(path, ds, "Rows", 1, positive=True)
    _numbers(path, ds, "Columns", 1, positive=True)
    _numbers(path, ds, "ImageOrientationPatient", 6)
    _numbers(path, ds, "ImagePositionPatient", 3)
    _numbers(path, ds, "PixelSpacing", 2, positive=True)
    for tag in ("RescaleSlope", "RescaleIntercept", "TriggerTime", "InstanceNumber"):
        _optional(path, ds, tag, 0.0)


def _numbers(path: Path, ds: Any, tag: str, count: int, *, positive: bool = False) -> np.ndarray:
    """The ``count`` finite numbers (positive if asked) of ``tag``, or an InputError naming the file."""
    try:
        value = ds[tag].value  # pydicom converts the raw value here and may fail (e.g. IS "inf")
        scalar = isinstance(value, (str, bytes)) or not hasattr(value, "__len__")
        values = np.asarray([value] if scalar else list(value), dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        value, values = f"an unreadable value ({exc})", None
    if values is None or values.shape != (count,) or not np.all(np.isfinite(values)) or (
            positive and np.any(values <= 0)):
        want = f"{count} finite{' positive' if positive else ''} number{'s' if count > 1 else ''}"
        raise InputError(path, f"DICOM tag {tag} holds {value!s:.60}; expected {want}. The file is damaged "
                               "or was written by faulty software; export the series again")
    return values


def _optional(path: Path, ds: Any, tag: str, default: float) -> float:
    """The single number of ``tag``, ``default`` when absent or blank; malformed values are refused."""
    if tag not in ds or ds[tag].value in (None, ""):
        return default
    return float(_numbers(path, ds, tag, 1)[0])


def _ipp(ds: Any) -> np.ndarray:
    """ImagePositionPatient of a dataset whose values :func:`_check_values` accepted."""
    return np.asarray([float(v) for v in ds.ImagePositionPatient])


def _metadata(ds: Any, tag: str) -> float | None:
    """An optional descriptive value (slice thickness, RR interval): None when absent or not positive."""
    try:
        value = float(ds[tag].value) if tag in ds and ds[tag].value not in (None, "") else None
    except (TypeError, ValueError, OverflowError):
        return None
    return value if value is not None and np.isfinite(value) and value > 0 else None


def _select_series(where: Path, headers: list[_Item], series_uid: str | None) -> list[_Item]:
    by_series: dict[str, list[_Item]] = {}
    for item in headers:
        by_series.setdefault(str(item[1].SeriesInstanceUID), []).append(item)
    if series_uid is not None:
        if series_uid not in by_series:
            raise InputError(where, f"no series with SeriesInstanceUID {series_uid}; "
                                    f"found {sorted(by_series)}")
        return by_series[series_uid]
    if len(by_series) > 1:
        # Series numbers, not descriptions: free-text descriptions can carry identifying text and this
        # message reaches logs and summary.json (PS3.15 removes SeriesDescription).
        summary = "; ".join(
            f"{uid} ({len(items)} files, series number {getattr(items[0][1], 'SeriesNumber', '?')!s})"
            for uid, items in by_series.items()
        )
        raise InputError(where, f"holds {len(by_series)} DICOM series, expected one: {summary}. "
                                "Put each series in its own folder or choose one by its SeriesInstanceUID")
    return headers


def _check_consistent(where: Path, headers: list[_Item]) -> None:
    ref_path, ref = headers[0]
    ref_iop = _numbers(ref_path, ref, "ImageOrientationPatient", 6)
    ref_ps = _numbers(ref_path, ref, "PixelSpacing", 2)
    for path, ds in headers[1:]:
        if (int(ds.Rows), int(ds.Columns)) != (int(ref.Rows), int(ref.Columns)):
            raise InputError(where, f"mixed image sizes: {path.name} is {ds.Rows}x{ds.Columns}, "
                                    f"{ref_path.name} is {ref.Rows}x{ref.Columns} (rows x columns)")
        if not np.allclose(_numbers(path, ds, "ImageOrientationPatient", 6), ref_iop, atol=1e-4):
            raise InputError(where, f"mixed image orientations: {path.name} and {ref_path.name} differ "
                                    "(ImageOrientationPatient); a series must be one stack of parallel "
                                    "slices")
        if not np.allclose(_numbers(path, ds, "PixelSpacing", 2), ref_ps, rtol=1e-4):
            raise InputError(where, f"mixed pixel spacings: {path.name} and {ref_path.name} differ")


def _geometry(path: Path, ds: Any) -> dict[str, Any]:
    iop = _numbers(path, ds, "ImageOrientationPatient", 6)
    row_dir, col_dir = iop[:3], iop[3:]
    normal = np.cross(row_dir, col_dir)
    if not np.isclose(np.linalg.norm(normal), 1.0, atol=1e-3):
        raise InputError(path, f"invalid ImageOrientationPatient {iop.tolist()} (directions not orthonormal)")
    row_spacing, col_spacing = (float(v) for v in _numbers(path, ds, "PixelSpacing", 2, positive=True))
    return {"iop": iop, "row_dir": row_dir, "col_dir": col_dir, "normal": normal,
            "row_spacing": row_spacing, "col_spacing": col_spacing}


def _group_by_position(headers: list[_Item], normal: np.ndarray) -> dict[float, list[_Item]]:
    def position(item: _Item) -> float:
        return float(np.dot(_numbers(*item, "ImagePositionPatient", 3), normal))

    groups: dict[float, list[_Item]] = {}
    for item in sorted(headers, key=position):
        pos = position(item)
        key = next((k for k in groups if abs(k - pos) <= POSITION_TOLERANCE_MM), pos)
        groups.setdefault(key, []).append(item)
    return groups


def _order_phases(where: Path, groups: dict[float, list[_Item]],
                  positions: list[float]) -> tuple[list[list[_Item]], list[list[float]] | None]:
    all_items = [item for pos in positions for item in groups[pos]]
    use_trigger = all("TriggerTime" in ds and ds.TriggerTime not in (None, "") for _, ds in all_items)
    if not use_trigger and not all("InstanceNumber" in ds and ds.InstanceNumber not in (None, "")
                                   for _, ds in all_items):
        raise InputError(where, "cannot order the cine phases: neither TriggerTime nor InstanceNumber is "
                                "present in every file")
    tag = "TriggerTime" if use_trigger else "InstanceNumber"

    def key(item: _Item) -> float:
        return _optional(item[0], item[1], tag, 0.0)  # checked by _check_values: cannot fail

    ordered, triggers = [], []
    for k, pos in enumerate(positions):
        items = sorted(groups[pos], key=key)
        values = [key(h) for h in items]
        for a, b, (path, _) in zip(values, values[1:], items[1:]):
            if a == b:
                raise InputError(where, f"duplicate phase at slice {k} (position {pos:.2f} mm): {path.name} "
                                        f"has the same {tag} ({b}) as another file; is a series repeated "
                                        "in the folder?")
        ordered.append(items)
        triggers.append([float(v) for v in values])
    counts = [len(items) for items in ordered]
    if len(set(counts)) > 1:
        raise InputError(where, f"unequal number of phases per slice position: {counts} "
                                "(missing files or an interrupted acquisition?)")
    if counts[0] < 2:
        raise InputError(where, f"cine series has a single phase per slice ({len(ordered)} slices); a cine "
                                "needs at least 2 phases (is this an LGE series? read it with kind='image')")
    return ordered, triggers if use_trigger else None


def _one_per_position(where: Path, groups: dict[float, list[_Item]],
                      positions: list[float]) -> list[list[_Item]]:
    for k, pos in enumerate(positions):
        if len(groups[pos]) > 1:
            names = ", ".join(p.name for p, _ in groups[pos][:4])
            raise InputError(where, f"{len(groups[pos])} images at slice {k} (position {pos:.2f} mm: "
                                    f"{names}); "
                                    "an image series needs one image per position (a cine? read it with "
                                    "kind='cine'; magnitude and phase images? separate them)")
    return [groups[pos] for pos in positions]


def _read_pixels(path: Path, ds: Any, rows: int, cols: int) -> np.ndarray:
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if syntax is not None and not syntax.is_transfer_syntax:
        raise InputError(path, f"unknown transfer syntax {syntax}; pixel data cannot be decoded (a private "
                               "syntax? export the series with a standard one)")
    if syntax is not None and syntax.is_compressed:
        from pydicom.pixels import get_decoder

        try:
            available = get_decoder(syntax).is_available
        except NotImplementedError:
            available = False
        if not available:
            raise InputError(path, f"compressed transfer syntax {syntax.name} ({syntax}) and no decoder "
                                   "installed; install pylibjpeg with its plugins or python-gdcm, or "
                                   "decompress the series (e.g. with dcmdjpeg)")
    try:
        pixels = np.asarray(ds.pixel_array)
    except Exception as exc:
        raise InputError(path, f"pixel data could not be decoded ({type(exc).__name__}: {exc})") from None
    if pixels.shape != (rows, cols):
        raise InputError(path, f"pixel data shape {pixels.shape} does not match Rows x Columns "
                               f"{(rows, cols)}")
    slope = _optional(path, ds, "RescaleSlope", 1.0) or 1.0
    intercept = _optional(path, ds, "RescaleIntercept", 0.0)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow becomes inf, refused below
        out = pixels.astype(np.float32) * np.float32(slope) + np.float32(intercept)
    if not np.all(np.isfinite(out)):
        raise InputError(path, "pixel data holds NaN or infinite values")
    return out


def _affine(geometry: dict[str, Any], first: list[Any],
            positions: list[float]) -> tuple[np.ndarray, tuple[float, float, float], list[float]]:
    ipp = np.asarray([_ipp(ds) for ds in first])
    if len(first) > 1:
        steps = np.diff(np.asarray(positions))
        slice_spacing = float(np.mean(steps))
        slice_step = (ipp[-1] - ipp[0]) / (len(first) - 1)
    else:
        ds = first[0]
        slice_spacing = _metadata(ds, "SpacingBetweenSlices") or _metadata(ds, "SliceThickness") or 1.0
        slice_step = geometry["normal"] * slice_spacing
    lps = np.eye(4)
    lps[:3, 0] = geometry["row_dir"] * geometry["col_spacing"]  # x runs along a row: column spacing
    lps[:3, 1] = geometry["col_dir"] * geometry["row_spacing"]
    lps[:3, 2] = slice_step
    lps[:3, 3] = ipp[0]
    spacing = (geometry["col_spacing"], geometry["row_spacing"], abs(slice_spacing))
    return _LPS_TO_RAS @ lps, spacing, [float(p) for p in positions]


def _quirks(ordered: list[list[_Item]]) -> dict[str, Any]:
    """The series' FrameOfReferenceUID for the outputs, and one plain note per rule break tolerated."""
    items = [ds for slice_items in ordered for _, ds in slice_items]
    frame, n_frames = series_frame_of_reference([_uid(ds, "FrameOfReferenceUID") for ds in items])
    n_invalid = sum(has_invalid_uid(ds) for ds in items)
    notes = [invalid_uid_note(n_invalid)] if n_invalid else []
    if n_frames > 1:
        notes.append(frame_of_reference_note(len(items), n_frames))
    return {"frame_of_reference_uid": frame, "frame_of_reference_uid_count": n_frames,
            "files_with_invalid_uids": n_invalid, "notes": notes}


def _uid(ds: Any, tag: str) -> str | None:
    value = getattr(ds, tag, None)
    return str(value) if value not in (None, "") else None


def _meta(kind: SeriesKind, ordered: list[list[_Item]], first: list[Any], geometry: dict[str, Any],
          slice_positions: list[float], trigger: list[list[float]] | None) -> dict[str, Any]:
    ref = first[0]
    steps = np.diff(slice_positions) if len(slice_positions) > 1 else np.zeros(0)
    meta: dict[str, Any] = {
        "format": "dicom",
        "modality": _uid(ref, "Modality"),
        "sop_class_uid": _uid(ref, "SOPClassUID"),
        "series_instance_uid": _uid(ref, "SeriesInstanceUID"),
        "study_instance_uid": _uid(ref, "StudyInstanceUID"),
        "frame_of_reference_uid": _uid(ref, "FrameOfReferenceUID"),
        "image_orientation_patient": geometry["iop"].tolist(),
        "image_positions_patient": [_ipp(ds).tolist() for ds in first],
        "pixel_spacing_mm": [geometry["row_spacing"], geometry["col_spacing"]],
        "slice_positions_mm": slice_positions,
        "uniform_slice_spacing": bool(steps.size == 0
                                      or np.ptp(steps) <= 0.01 * max(abs(steps.mean()), 1e-6)),
        "slice_thickness_mm": _metadata(ref, "SliceThickness"),
        "magnetic_field_strength_t": _metadata(ref, "MagneticFieldStrength"),
    }
    if kind is SeriesKind.CINE:
        meta["sop_instance_uids"] = [[_uid(ds, "SOPInstanceUID") for _, ds in items] for items in ordered]
        meta["trigger_times_ms_per_slice"] = trigger
        meta["trigger_times_ms"] = (np.mean(np.asarray(trigger), axis=0).tolist() if trigger is not None
                                    else None)
        meta["phase_order"] = "TriggerTime" if trigger is not None else "InstanceNumber"
        meta["rr_interval_ms"] = _metadata(ref, "NominalInterval")
    else:
        meta["sop_instance_uids"] = [_uid(items[0][1], "SOPInstanceUID") for items in ordered]
    return meta
