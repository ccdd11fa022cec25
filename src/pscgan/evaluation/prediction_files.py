"""Reading a prediction folder's files as the hostile input they may be.

``pscgan evaluate`` and ``pscgan report`` read folders a user hands them: a ``network.npz`` holding an
object array or random bytes, a ``clinical.json`` holding ``[]``, a ``records.json`` nested a hundred
thousand deep. Each reader here checks types, shapes and values before the metrics touch them, and
turns every problem into one :class:`~pscgan.errors.InputError` naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pscgan.data.predictions import CLINICAL_FILE, NETWORK_FILE, RECORDS_FILE
from pscgan.errors import InputError

#: network.npz: name -> (dimensions, allowed dtype kinds); the first dimension counts slices.
NETWORK_ARRAYS = {"cine": (4, "buif"), "lge_synthetic": (3, "buif"), "segmentation": (3, "bui"),
                  "coarse_mask": (3, "bui"), "spacing_mm": (2, "buif")}


def read_network_arrays(path: Path) -> dict[str, np.ndarray]:
    """The network-grid arrays of one predicted subject, checked against :data:`NETWORK_ARRAYS`: known
    names, dimensions and dtypes, one slice count, the same in-plane grid, finite values, labels 0..3,
    positive spacing.

    Raises:
        InputError: naming ``path`` and the problem.
    """
    from pscgan.io.npz import read_npz_arrays

    arrays = read_npz_arrays(path)
    if "cine" not in arrays:
        raise InputError(path, "holds no 'cine' array")
    n, _, h, w = _shape(path, "cine", arrays["cine"])
    if n == 0 or h == 0 or w == 0:
        raise InputError(path, f"'cine' is empty (shape {arrays['cine'].shape})")
    for name, arr in arrays.items():
        if name not in NETWORK_ARRAYS:
            continue  # written by a newer pscgan: not read
        shape = _shape(path, name, arr)
        if shape[0] != n:
            raise InputError(path, f"{name!r} has {shape[0]} slices, 'cine' has {n}")
        if NETWORK_ARRAYS[name][0] == 3 and shape[1:] != (h, w):
            raise InputError(path, f"{name!r} grid {shape[1:]} differs from the cine's {(h, w)}")
        if not np.all(np.isfinite(arr)):
            raise InputError(path, f"{name!r} holds NaN or infinite values")
    for name in ("segmentation", "coarse_mask"):
        if name in arrays and arrays[name].size and (arrays[name].min() < 0 or arrays[name].max() > 3):
            raise InputError(path, f"{name!r} holds labels outside 0..3")
    spacing = arrays.get("spacing_mm")
    if spacing is not None and (spacing.shape[1:] != (2,) or np.any(spacing <= 0)):
        raise InputError(path, "'spacing_mm' must hold two positive values per slice")
    return arrays


def _shape(path: Path, name: str, arr: np.ndarray) -> tuple[int, ...]:
    ndim, kinds = NETWORK_ARRAYS[name]
    if arr.ndim != ndim or arr.dtype.kind not in kinds:
        raise InputError(path, f"{name!r} must be a {ndim}-D numeric array, got {arr.ndim}-D {arr.dtype}")
    return tuple(int(s) for s in arr.shape)


def read_clinical(path: Path) -> dict[str, Any]:
    """A predicted subject's ``clinical.json``, checked field by field against
    :class:`~pscgan.evaluation.prediction_schema.ClinicalFile` (types without coercion, finite and bounded
    numbers), with one result per slice: ``subject.n_slices`` slices indexed 0, 1, ...

    Raises:
        InputError: naming ``path``, the field and the problem.
    """
    from pydantic import ValidationError

    from pscgan.evaluation.prediction_schema import ClinicalFile
    from pscgan.io.jsonfile import non_finite, read_json, validation_problem

    data = read_json(path, expect=dict, what="clinical quantification")
    bad = non_finite(data)
    if bad is not None:
        raise InputError(path, bad)
    try:
        checked = ClinicalFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(path, validation_problem(exc)) from None
    n = checked.subject.n_slices
    indices = [s.index for s in checked.slices]
    if sorted(indices) != list(range(n)):
        raise InputError(path, f"field slices: {len(indices)} slice results with indices {indices[:5]}... "
                               f"for subject.n_slices {n}; expected one per slice, indexed 0..{n - 1}")
    return data


#: Largest grid (pixels per side) a record may describe; a scanner's matrix is a few hundred.
MAX_GRID = 16_384
#: Largest network crop a record may describe (the configuration's ``image_size`` is at most 512).
MAX_CROP = 4096


def read_records(path: Path) -> list[dict[str, Any]]:
    """A predicted subject's ``records.json``: one valid
    :class:`~pscgan.preprocessing.record.SliceRecord` per slice, in slice order, with finite bounded numbers
    and a geometry that holds together (grids within :data:`MAX_GRID`, one crop size and one in-plane
    spacing for every slice, each crop box on its grid and overlapping it).

    Raises:
        InputError: naming ``path``, the slice record, the field and the problem.
    """
    from pydantic import ValidationError

    from pscgan.io.jsonfile import non_finite, read_json, validation_problem
    from pscgan.preprocessing.record import SliceRecord

    records = read_json(path, expect=list, what="preprocessing records")
    if not records:
        raise InputError(path, "holds no slice record")
    if not all(isinstance(r, dict) for r in records):
        raise InputError(path, "every preprocessing record must be an object")
    bad = non_finite(records)
    if bad is not None:
        raise InputError(path, bad)
    checked = []
    for k, raw in enumerate(records):
        try:
            checked.append(SliceRecord.model_validate(raw))
        except ValidationError as exc:
            raise InputError(path, f"slice record {k}: {validation_problem(exc)}") from None
    _check_geometry(path, checked)
    return records


def _check_geometry(path: Path, records: list[Any]) -> None:
    n = len(records)
    first = records[0]
    for k, r in enumerate(records):
        where = f"slice record {k}:"
        if r.slice_index != k or r.n_slices != n:
            raise InputError(path, f"{where} field slice_index/n_slices: {r.slice_index} of {r.n_slices}, "
                                   f"expected {k} of {n} (records in slice order)")
        grids = {"original_shape_rc": r.original_shape_rc, "crop.grid_shape": r.crop.grid_shape}
        if r.inplane is not None:
            grids |= {"inplane.shape": r.inplane.shape, "inplane.original_shape": r.inplane.original_shape}
        for name, grid in grids.items():
            if not all(1 <= g <= MAX_GRID for g in grid):
                raise InputError(path, f"{where} field {name}: {tuple(grid)} is not a grid of 1..{MAX_GRID} "
                                       "pixels per side")
        if not all(s > 0 for s in r.original_spacing_mm) or (
                r.inplane is not None and not all(s > 0 for s in (*r.inplane.spacing_mm,
                                                                  *r.inplane.original_spacing_mm))):
            raise InputError(path, f"{where} field original_spacing_mm/inplane: spacings must be positive")
        resampled = r.original_shape_rc if r.inplane is None else r.inplane.shape
        if r.inplane is not None and tuple(r.inplane.original_shape) != tuple(r.original_shape_rc):
            raise InputError(path, f"{where} field inplane.original_shape: {tuple(r.inplane.original_shape)} "
                                   f"is not the slice's original_shape_rc {tuple(r.original_shape_rc)}")
        if tuple(r.crop.grid_shape) != tuple(resampled):
            raise InputError(path, f"{where} field crop.grid_shape: {tuple(r.crop.grid_shape)} is not the "
                                   f"grid the slice was resampled to {tuple(resampled)}")
        if r.crop.size > MAX_CROP or r.crop.size != first.crop.size:
            raise InputError(path, f"{where} field crop.size: {r.crop.size}; every slice has one crop of at "
                                   f"most {MAX_CROP} pixels (slice 0: {first.crop.size})")
        if (r.inplane is None) != (first.inplane is None) or (
                r.inplane is not None and r.inplane.spacing_mm != first.inplane.spacing_mm):
            raise InputError(path, f"{where} field inplane: every slice is resampled alike (slice 0: "
                                   f"{None if first.inplane is None else first.inplane.spacing_mm})")
        rows, cols = r.crop.grid_shape
        if not (-r.crop.size < r.crop.row0 < rows and -r.crop.size < r.crop.col0 < cols):
            raise InputError(path, f"{where} field crop: the box at ({r.crop.row0}, {r.crop.col0}) of "
                                   f"{r.crop.size} pixels does not overlap its {rows}x{cols} grid")


def check_prediction_folder(pred_dir: Path) -> None:
    """Read every finished subject of ``pred_dir`` with the readers above (before a report is built).

    Raises:
        InputError: the first file that is not what ``pscgan predict`` writes.
    """
    if not pred_dir.is_dir():
        return  # the command says so itself
    for folder in sorted(p for p in pred_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if (folder / NETWORK_FILE).is_file():
            read_network_arrays(folder / NETWORK_FILE)
        if (folder / CLINICAL_FILE).is_file():
            read_clinical(folder / CLINICAL_FILE)
        if (folder / RECORDS_FILE).is_file():
            read_records(folder / RECORDS_FILE)
