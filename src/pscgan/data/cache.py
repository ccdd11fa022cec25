"""The packed, memory-mapped training cache: one file per dataset.

Training must not re-read and re-preprocess NIfTI files at every step. :func:`build_cache` runs the
preprocessing once over a dataset and packs every slice into one file in the `safetensors` format
(an 8-byte header length, a JSON header, then raw little-endian arrays), written in a streaming way so
that datasets larger than memory pack too. :class:`TrainingCache` maps the arrays with ``numpy.memmap``:
opening is instant and a sample costs one page-in.

Arrays in the file (N slices):

* ``cine``   float32 (N, 25, 64, 64), in [-1, 1], (time, row, col)
* ``lge``    float32 (N, 64, 64) in [-1, 1]   (zeros where ``has_lge`` is 0)
* ``labels`` uint8   (N, 64, 64)              (zeros where ``has_labels`` is 0)
* ``has_lge``, ``has_labels`` uint8 (N,)
* ``spacing`` float32 (N, 2): pixel spacing in mm after preprocessing

The header's ``__metadata__`` holds the per-slice index (subject id, slice index, level, RV insertion
angle), the preprocessing options and records, and a fingerprint of the source files, so that a stale
cache is detected rather than silently used.

Example:
    >>> # cache = TrainingCache(build_cache("phantom/", "phantom/pscgan_cache.safetensors"))
    >>> # sample = cache[0]; sample["cine"].shape  -> (25, 64, 64)
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pscgan.errors import InputError, OutputExistsError
from pscgan.io.atomic import atomic_path

CACHE_FORMAT = "pscgan-training-cache"
CACHE_VERSION = 1
_DTYPES: dict[np.dtype[Any], str] = {np.dtype(np.float32): "F32", np.dtype(np.uint8): "U8"}
_NP_DTYPES = {v: k for k, v in _DTYPES.items()}


@dataclass(frozen=True)
class CacheEntry:
    """Index entry of one slice in the cache."""

    subject_id: str
    slice_index: int
    level: str | None
    rv_insertion_angle_deg: float | None


def dataset_fingerprint(subject_folders: Sequence[Path]) -> str:
    """Hash of the names, sizes and modification times of every file in the subject folders.

    Cheap to compute (no file is read) and changes whenever a file is rewritten.
    """
    h = hashlib.sha256()
    for folder in sorted(subject_folders):
        for f in sorted(Path(folder).iterdir()):
            if f.is_file():
                st = f.stat()
                h.update(f"{folder.name}/{f.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _to_jsonable(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if is_dataclass(obj) and not isinstance(obj, type):
        return {k: _to_jsonable(v) for k, v in asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "value") and isinstance(getattr(obj, "value"), (str, int)):
        return obj.value
    return obj


class _ArraySpool:
    """Appends fixed-shape records of one array to a temporary raw file."""

    def __init__(self, folder: Path, name: str, dtype: np.typing.DTypeLike, record_shape: tuple[int, ...]
                 ) -> None:
        self.path = folder / f"{name}.raw"
        self.dtype = np.dtype(dtype)
        self.record_shape = record_shape
        self.count = 0
        self._fh = open(self.path, "wb")

    def append(self, value: np.ndarray) -> None:
        arr = np.asarray(value, dtype=self.dtype.newbyteorder("<"))  # tobytes() writes C order
        if arr.shape != self.record_shape:
            raise ValueError(f"{self.path.stem}: expected shape {self.record_shape}, got {arr.shape}")
        self._fh.write(arr.tobytes())
        self.count += 1

    def close(self) -> None:
        self._fh.close()

    @property
    def nbytes(self) -> int:
        return self.count * int(np.prod(self.record_shape)) * self.dtype.itemsize


def write_packed(target: Path, spools: list[_ArraySpool], metadata: dict[str, str]) -> None:
    """Write spooled arrays as one safetensors file (atomically)."""
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for sp in spools:
        header[sp.path.stem] = {"dtype": _DTYPES[sp.dtype], "shape": [sp.count, *sp.record_shape],
                                "data_offsets": [offset, offset + sp.nbytes]}
        offset += sp.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-(len(raw) + 8) % 64)  # align the data start (safetensors pads with spaces)
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        out.write(struct.pack("<Q", len(raw)))
        out.write(raw)
        for sp in spools:
            with open(sp.path, "rb") as src:
                shutil.copyfileobj(src, out, length=16 << 20)


def build_cache(dataset: str | Path, out: str | Path | None = None, *, options: Any = None,
                subjects: Iterable[str] | None = None, overwrite: bool = False,
                on_subject: Callable[[str], None] | None = None) -> Path:
    """Preprocess a dataset in the canonical layout and pack it into one memory-mappable file.

    Args:
        dataset: dataset folder (canonical layout).
        out: cache file; default ``DATASET/pscgan_cache.safetensors``.
        options: :class:`pscgan.preprocessing.pipeline.PreprocessOptions` (default options if None).
        subjects: restrict to these subject ids (default: all).
        overwrite: replace an existing cache file.
        on_subject: called with each subject id once it is packed (progress reporting).

    Returns:
        The path of the written cache.

    Raises:
        InputError: a subject cannot be read or preprocessed (the message names its file).
        OutputExistsError: ``out`` exists and ``overwrite`` is false.
    """
    from pscgan.data.layout import list_subject_folders, load_subject
    from pscgan.preprocessing.pipeline import PreprocessOptions, prepare_subject

    dataset = Path(dataset)
    out = Path(out) if out is not None else dataset / "pscgan_cache.safetensors"
    if out.exists() and not overwrite:
        raise OutputExistsError(out, "cache file exists; pass --overwrite to rebuild it")
    options = options or PreprocessOptions()
    folders = list_subject_folders(dataset)
    if subjects is not None:
        wanted = set(subjects)
        folders = [f for f in folders if f.name in wanted]
        missing = wanted - {f.name for f in folders}
        if missing:
            raise InputError(dataset, f"subjects not in the dataset: {sorted(missing)[:5]}")
    if not folders:
        raise InputError(dataset, "no subjects to cache")

    entries: list[CacheEntry] = []
    records: list[Any] = []
    with tempfile.TemporaryDirectory(
        prefix=".pscgan-cache-", dir=out.parent if out.parent.exists() else None
    ) as td:
        spool_dir = Path(td)
        spools: dict[str, _ArraySpool] = {}
        for folder in folders:
            subject = load_subject(folder)
            for sl in prepare_subject(subject, options):
                if not spools:
                    t, h, w = sl.cine.shape
                    spools = {
                        "cine": _ArraySpool(spool_dir, "cine", np.float32, (t, h, w)),
                        "lge": _ArraySpool(spool_dir, "lge", np.float32, (h, w)),
                        "labels": _ArraySpool(spool_dir, "labels", np.uint8, (h, w)),
                        "has_lge": _ArraySpool(spool_dir, "has_lge", np.uint8, ()),
                        "has_labels": _ArraySpool(spool_dir, "has_labels", np.uint8, ()),
                        "spacing": _ArraySpool(spool_dir, "spacing", np.float32, (2,)),
                    }
                h, w = spools["lge"].record_shape
                spools["cine"].append(sl.cine)
                spools["lge"].append(sl.lge if sl.lge is not None else np.zeros((h, w), np.float32))
                spools["labels"].append(sl.labels if sl.labels is not None else np.zeros((h, w), np.uint8))
                spools["has_lge"].append(np.uint8(sl.lge is not None))
                spools["has_labels"].append(np.uint8(sl.labels is not None))
                spools["spacing"].append(np.asarray(sl.spacing_mm, np.float32))
                entries.append(
                    CacheEntry(
                        sl.subject_id,
                        int(sl.slice_index),
                        None if sl.level is None else str(getattr(sl.level, "value", sl.level)),
                        None if sl.rv_insertion_angle_deg is None else float(sl.rv_insertion_angle_deg),
                    )
                )
                records.append(_to_jsonable(sl.record))
            if on_subject is not None:
                on_subject(folder.name)
        for sp in spools.values():
            sp.close()
        metadata = {
            "format": CACHE_FORMAT,
            "version": str(CACHE_VERSION),
            "fingerprint": dataset_fingerprint(folders),
            "options": json.dumps(_to_jsonable(options)),
            "index": json.dumps([asdict(e) for e in entries]),
            "records": json.dumps(records),
        }
        write_packed(out, list(spools.values()), metadata)
    return out


#: The arrays every cache holds, one entry per slice.
_CACHE_ARRAYS = ("cine", "lge", "labels", "has_lge", "has_labels", "spacing")


class TrainingCache:
    """Read-only, memory-mapped view of a cache written by :func:`build_cache`.

    Args:
        path: the cache file.

    Raises:
        InputError: the file is missing, truncated or not a pscgan cache.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._open()
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, OSError,
                RecursionError) as exc:  # a header edited or damaged past its format tag
            raise InputError(self.path, f"corrupt cache ({type(exc).__name__}: {str(exc)[:100]}); rebuild "
                                        "it with `pscgan data cache`") from None

    def _open(self) -> None:
        header, data_start = _read_header(self.path)
        meta = header.pop("__metadata__", {})
        if meta.get("format") != CACHE_FORMAT:
            raise InputError(self.path, "not a pscgan training cache (no format tag); rebuild it with "
                                        "`pscgan data cache`")
        if int(meta.get("version", -1)) != CACHE_VERSION:
            raise InputError(
                self.path, f"cache version {meta.get('version')} is not {CACHE_VERSION}; rebuild it"
            )
        size = self.path.stat().st_size
        self.arrays: dict[str, np.ndarray] = {}
        for name, spec in header.items():
            begin, end = spec["data_offsets"]
            dtype = _NP_DTYPES[spec["dtype"]].newbyteorder("<")
            shape = tuple(spec["shape"])
            if data_start + end > size or end - begin != int(np.prod(shape)) * dtype.itemsize:
                raise InputError(self.path, f"truncated or corrupt cache (array {name!r}); rebuild it")
            self.arrays[name] = np.memmap(
                self.path, dtype=dtype, mode="r", offset=data_start + begin, shape=shape
            )
        self.metadata = meta
        self.entries = [CacheEntry(**e) for e in json.loads(meta["index"])]
        self.options = json.loads(meta["options"])
        self.fingerprint = meta["fingerprint"]
        n = len(self.entries)
        if any(len(self.arrays[k]) != n for k in _CACHE_ARRAYS) or not all(
                isinstance(e.subject_id, str) and type(e.slice_index) is int for e in self.entries):
            raise InputError(self.path, "index and arrays disagree; rebuild the cache")

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, i: int) -> dict[str, Any]:
        e = self.entries[i]
        return {
            "cine": np.asarray(self.arrays["cine"][i]),
            "lge": np.asarray(self.arrays["lge"][i]) if self.arrays["has_lge"][i] else None,
            "labels": np.asarray(self.arrays["labels"][i]) if self.arrays["has_labels"][i] else None,
            "spacing_mm": tuple(float(s) for s in self.arrays["spacing"][i]),
            "subject_id": e.subject_id,
            "slice_index": e.slice_index,
            "level": e.level,
            "rv_insertion_angle_deg": e.rv_insertion_angle_deg,
        }

    def records(self) -> list[dict[str, Any]]:
        """The preprocessing record of every slice (parsed on demand: it can be large)."""
        return json.loads(self.metadata["records"])

    def indices_of(self, subject_ids: Iterable[str]) -> list[int]:
        """Positions of all slices of the given subjects (for subject-level splits)."""
        wanted = set(subject_ids)
        return [i for i, e in enumerate(self.entries) if e.subject_id in wanted]

    def is_current(self, dataset: str | Path) -> bool:
        """Whether the cache was built from the dataset's files as they are now."""
        from pscgan.data.layout import list_subject_folders

        ids = {e.subject_id for e in self.entries}
        folders = [f for f in list_subject_folders(dataset) if f.name in ids]
        return dataset_fingerprint(folders) == self.fingerprint


def _read_header(path: Path) -> tuple[dict[str, Any], int]:
    if not path.is_file():
        raise InputError(path, "cache file not found")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise InputError(path, "truncated cache file (no header)")
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, 512 << 20):
            raise InputError(path, "corrupt cache file (header length out of range)")
        try:
            header = json.loads(fh.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise InputError(path, "corrupt cache file (header is not JSON)") from None
    if not isinstance(header, dict):
        raise InputError(path, "corrupt cache file (header is not a JSON object)")
    return header, 8 + n


def default_cache_path(dataset: str | Path) -> Path:
    return Path(dataset) / "pscgan_cache.safetensors"


__all__ = [
    "CacheEntry",
    "TrainingCache",
    "build_cache",
    "dataset_fingerprint",
    "default_cache_path",
    "ensure_cache",
    "write_packed",
]


#: Bumped whenever preprocessing changes what it produces for the same options, so that caches built
#: by an older version are not reused.
PREPROCESSING_VERSION = 2


def options_key(options: Any) -> str:
    """Short hash of preprocessing options and version (names the cache file built with them)."""
    payload = {"options": _to_jsonable(options), "preprocessing_version": PREPROCESSING_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def ensure_cache(dataset: str | Path, options: Any, *, fallback_dir: str | Path | None = None,
                 on_subject: Callable[[str], None] | None = None) -> Path:
    """The dataset's cache for ``options``, built or rebuilt only when missing or stale.

    The cache lives in ``DATASET/.pscgan-cache/<options hash>.safetensors``; when the dataset folder
    is read-only it is built in ``fallback_dir`` instead.
    """
    import os

    dataset = Path(dataset)
    folder = dataset / ".pscgan-cache"
    if not os.access(dataset, os.W_OK) and fallback_dir is not None:
        folder = Path(fallback_dir)
    path = folder / f"{options_key(options)}.safetensors"
    if path.is_file():
        try:
            if TrainingCache(path).is_current(dataset):
                return path
        except InputError:
            pass  # corrupt or old format: rebuild below
    folder.mkdir(parents=True, exist_ok=True)
    return build_cache(dataset, path, options=options, overwrite=True, on_subject=on_subject)
