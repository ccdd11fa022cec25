"""Output locations checked before anything is written: usable, and never an input.

A user can hand any path as ``--out``: one below a regular file, a symbolic-link loop, a read-only
folder, the input dataset itself or a folder above it. :func:`make_folder` and :func:`check_output_file`
turn the first kinds into one :class:`~pscgan.errors.OutputError` line; :func:`check_not_input` refuses
an output that is an input, holds an input, or lies inside one, after resolving symbolic links, so that
``--overwrite`` can never reach the data being read.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_not_input(d / "pred", [d / "dataset"]) == (d / "pred").resolve()
    True
    >>> check_not_input(d, [d / "dataset"])
    Traceback (most recent call last):
    ...
    pscgan.errors.OutputError: ...: holds the input ...dataset; choose an output location outside the inputs
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

from pscgan.errors import OutputError


def resolve(path: str | Path) -> Path:
    """``path`` made absolute with every symbolic link followed (missing tails kept as given).

    Raises:
        OutputError: a symbolic-link loop.
    """
    path = Path(path)
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:  # Python < 3.13 raises RuntimeError for a loop
        raise OutputError(
            path, f"cannot be resolved: symbolic-link loop or unreadable link ({exc})"
        ) from None


def _existing_ancestor(path: Path) -> Path:
    """The nearest existing folder at or above ``path`` (refusing a regular file on the way)."""
    for p in (path, *path.parents):
        if p.is_symlink() and not p.exists():
            raise OutputError(path, f"{p} is a broken symbolic link")
        if p.exists():
            if not p.is_dir():
                raise OutputError(path, f"{p} is a file, not a folder; choose another output location")
            return p
    return Path(path.anchor or ".")


def _writable(folder: Path, path: Path) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            path, f"{folder} is not writable (permission denied); choose another output location"
        )


def make_folder(path: str | Path) -> Path:
    """Create the output folder ``path`` (and its parents) or say in one line why it cannot be.

    Returns:
        ``path`` as given (a :class:`~pathlib.Path`), now an existing writable folder.

    Raises:
        OutputError: ``path`` or a folder above it is a regular file, a symbolic-link loop or broken
            link, or not writable.
    """
    path = Path(path)
    resolved = resolve(path)
    base = _existing_ancestor(resolved)
    _writable(base, path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(path, "exists and is not a folder; choose another output location") from None
    except PermissionError:
        raise OutputError(
            path, "cannot be created (permission denied); choose another output location"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(path, "cannot be created: symbolic-link loop") from None
        raise OutputError(path, f"cannot be created ({exc.strerror or exc})") from None
    return path


def check_output_file(path: str | Path) -> Path:
    """Check that the file ``path`` can be written (its folder exists or can be made, and is writable).

    Raises:
        OutputError: ``path`` is a folder, a folder above it is a file, a link loops, or its folder is
            not writable.
    """
    path = Path(path)
    resolved = resolve(path)
    if resolved.is_dir():
        raise OutputError(path, "is a folder; give a file name")
    base = _existing_ancestor(resolved.parent)
    _writable(base, path)
    return path


def _contains(parent: Path, child: Path) -> bool:
    return child == parent or parent in child.parents


def check_not_input(out: str | Path, inputs: Iterable[str | Path], *, may_hold_out: Iterable[str | Path] = ()
                    ) -> Path:
    """Refuse an output location that is an input, holds an input, or lies inside one.

    Args:
        out: output file or folder.
        inputs: every file or folder the command reads.
        may_hold_out: inputs that may contain ``out`` below them (a prediction folder holding its
            ``evaluation`` and ``report`` folders); ``out`` still may not be one of them.

    Returns:
        ``out`` resolved.

    Raises:
        OutputError: naming ``out`` and the input it would overwrite.
    """
    target = resolve(out)
    allowed = {resolve(p) for p in may_hold_out}
    for given in inputs:
        source = resolve(given)
        if _contains(target, source):
            what = "is the input" if source == target else f"holds the input {given}"
            raise OutputError(out, f"{what}; choose an output location outside the inputs")
        if source in allowed and _contains(source, target) and target.parent != source:
            raise OutputError(out, f"lies inside the input {given} (only a folder directly in it may receive "
                                   "outputs); choose an output location outside the inputs")
        if source not in allowed and _contains(source, target):
            raise OutputError(
                out, f"lies inside the input {given}; choose an output location outside the inputs"
            )
    return target
