"""Atomic file writes and the output-folder guard.

A result is either completely on disk or not at all: every writer goes through a temporary file in the
same folder, flushed and fsync'ed, then :func:`os.replace`'d over the target. Output folders that
already hold data are refused unless the user asked to overwrite.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_text_atomic(d / "a.json", '{"x": 1}')
    >>> (d / "a.json").read_text()
    '{"x": 1}'
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pscgan.errors import OutputExistsError


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` atomically.

    The temporary file keeps the target's suffixes so that libraries choosing a format by file name
    (nibabel's ``.nii.gz``) write the right thing. On any exception the temporary file is removed and
    ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(target.suffixes)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name.split('.')[0]}.", suffix=f".tmp{suffix}",
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _fsync_dir(folder: Path) -> None:
    # Make the rename itself durable; not supported on every platform, harmless to skip there.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes_atomic(target: str | Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    write_bytes_atomic(target, text.encode("utf-8"))


def write_json_atomic(target: str | Path, obj: Any, *, indent: int = 2) -> None:
    """Serialise ``obj`` as JSON (NaN refused: JSON has no NaN) and write it atomically."""
    write_text_atomic(target, json.dumps(obj, indent=indent, allow_nan=False, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def prepare_output_dir(path: str | Path, *, overwrite: bool = False) -> Path:
    """Make ``path`` ready to receive outputs.

    A missing or empty folder is fine. A folder that already holds files raises
    :class:`~pscgan.errors.OutputExistsError` unless ``overwrite`` is true, in which case its content
    is removed first. A path that is an existing file is always refused.

    Returns:
        The folder as a :class:`~pathlib.Path`, created if needed.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputExistsError(path, "exists and is not a folder; choose another output location")
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise OutputExistsError(path, "already holds data; choose an empty folder or pass --overwrite")
        for child in path.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_child(root: str | Path, name: str) -> Path:
    """Return ``root / name`` after checking that ``name`` cannot escape ``root``.

    Names taken from input metadata (subject ids, series descriptions) are used as file names; this
    refuses separators, ``..`` and absolute paths instead of silently writing elsewhere.

    Raises:
        ValueError: if ``name`` is empty, absolute, or contains a path separator or ``..``.
    """
    if not name or name in {".", ".."} or "/" in name or "\\" in name or "\x00" in name or name.startswith("~"):
        raise ValueError(f"unsafe file or folder name from input metadata: {name!r}")
    root = Path(root).resolve()
    child = (root / name).resolve()
    if child.parent != root:
        raise ValueError(f"unsafe file or folder name from input metadata: {name!r}")
    return root / name
