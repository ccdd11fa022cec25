"""Atomic file writes and the output-folder guard.

A result is either completely on disk or not at all: every writer goes through a temporary file in the
same folder, flushed and fsync'ed, then :func:`os.replace`'d over the target; its name carries
:data:`TEMP_MARK`, so that cleaning up after a killed command removes pscgan's temporaries only. Output
folders that already hold data are refused unless the user asked to overwrite, and then emptied only when
pscgan created them (:data:`OUTPUT_MARKER`).

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
from pscgan.migrations import output_predates_marker

#: The mark of a folder pscgan created as an output: ``--overwrite`` empties only folders that carry it.
OUTPUT_MARKER = ".pscgan-output"
#: The part of every temporary name pscgan writes: ``--resume`` removes only temporaries that carry it.
TEMP_MARK = ".pscgan-tmp"
# pscgan's own bookkeeping, not data: a folder holding only these is empty
_BOOKKEEPING = {OUTPUT_MARKER, ".pscgan.lock"}


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
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name.split('.')[0]}.", suffix=f"{TEMP_MARK}{suffix}",
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


def holds_data(path: str | Path) -> bool:
    """Whether the folder ``path`` holds anything besides pscgan's lock and output marker."""
    path = Path(path)
    return path.is_dir() and any(c.name not in _BOOKKEEPING for c in path.iterdir())


def written_by_pscgan(path: str | Path) -> bool:
    """Whether the folder ``path`` carries pscgan's output marker (pscgan created it as an output)."""
    marker = Path(path) / OUTPUT_MARKER
    return marker.is_file() and not marker.is_symlink()


def mark_output_dir(path: str | Path) -> None:
    """Mark the folder ``path`` as a pscgan output (see :data:`OUTPUT_MARKER`)."""
    import pscgan

    write_json_atomic(Path(path) / OUTPUT_MARKER, {"written_by": "pscgan", "version": pscgan.__version__})


def prepare_output_dir(path: str | Path, *, overwrite: bool = False) -> Path:
    """Make ``path`` ready to receive outputs.

    A missing or empty folder is fine. A folder that already holds files raises
    :class:`~pscgan.errors.OutputExistsError` unless ``overwrite`` is true and pscgan created the folder
    (:data:`OUTPUT_MARKER`): only then is its content removed first, so ``--overwrite`` never deletes a
    folder of the user's own. A path that is an existing file is always refused. The folder is marked as
    pscgan's.

    Returns:
        The folder as a :class:`~pathlib.Path`, created if needed.
    """
    from pscgan.io.paths import make_folder

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputExistsError(path, "exists and is not a folder; choose another output location")
    if holds_data(path):
        if not overwrite:
            raise OutputExistsError(path, "already holds data; choose an empty folder or pass --overwrite")
        if not written_by_pscgan(path):
            raise OutputExistsError(
                path,
                f"holds data pscgan did not write (no {OUTPUT_MARKER} marker), which "
                "--overwrite never deletes; choose another folder or empty it yourself",
            )
        for child in path.iterdir():
            if child.name in _BOOKKEEPING:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    make_folder(path)
    mark_output_dir(path)
    return path


def resume_output_dir(path: str | Path, *, records: tuple[str, ...] = ()) -> Path:
    """Make ``path`` ready for ``--resume``: a missing or empty folder, or one pscgan wrote (its marker, or
    :func:`pscgan.migrations.output_predates_marker` with ``records``); marked as pscgan's.

    Raises:
        OutputExistsError: the folder holds data pscgan did not write.
    """
    from pscgan.io.paths import make_folder

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputExistsError(path, "exists and is not a folder; choose another output location")
    if holds_data(path) and not written_by_pscgan(path) and not output_predates_marker(path, records):
        raise OutputExistsError(
            path,
            "holds data pscgan did not write; --resume continues only a folder pscgan "
            "wrote: choose another folder",
        )
    make_folder(path)
    mark_output_dir(path)
    return path


def safe_child(root: str | Path, name: str) -> Path:
    """Return ``root / name`` after checking that ``name`` cannot escape ``root``.

    Names taken from input metadata (subject ids, series descriptions) are used as file names; this
    refuses separators, ``..`` and absolute paths instead of silently writing elsewhere.

    Raises:
        ValueError: if ``name`` is empty, absolute, or contains a path separator or ``..``.
    """
    if (
        not name
        or name in {".", ".."}
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or name.startswith("~")
    ):
        raise ValueError(f"unsafe file or folder name from input metadata: {name!r}")
    root = Path(root).resolve()
    child = (root / name).resolve()
    if child.parent != root:
        raise ValueError(f"unsafe file or folder name from input metadata: {name!r}")
    return root / name
