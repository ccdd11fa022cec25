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
    """A predicted subject's ``clinical.json``: an object with ``subject`` (object), ``slices`` (array of
    objects) and ``segments`` (object of objects), as :func:`pscgan.inference.outputs.write_subject_result`
    writes it.

    Raises:
        InputError: naming ``path`` and the problem.
    """
    from pscgan.io.jsonfile import read_json

    data = read_json(path, expect=dict, what="clinical quantification")
    kinds = {"subject": dict, "slices": list, "segments": dict}
    for key, kind in kinds.items():
        if not isinstance(data.get(key), kind):
            raise InputError(path, f"{key!r} must be {'an object' if kind is dict else 'an array'}")
    if not all(isinstance(s, dict) and isinstance(s.get("quantities"), dict) for s in data["slices"]):
        raise InputError(path, "every entry of 'slices' must be an object with 'quantities'")
    if not all(isinstance(v, dict) for v in data["segments"].values()):
        raise InputError(path, "every entry of 'segments' must be an object")
    return data


def read_records(path: Path) -> list[dict[str, Any]]:
    """A predicted subject's ``records.json``: an array of per-slice objects.

    Raises:
        InputError: naming ``path`` and the problem.
    """
    from pscgan.io.jsonfile import read_json

    records = read_json(path, expect=list, what="preprocessing records")
    if not all(isinstance(r, dict) for r in records):
        raise InputError(path, "every preprocessing record must be an object")
    return records


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
