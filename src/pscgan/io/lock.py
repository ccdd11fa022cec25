"""One writer per output folder: a lock file naming the holder's pid and host.

Every command that writes an output folder holds :func:`output_lock` on it while it writes, so that two
commands (``pscgan predict OUT`` and ``pscgan predict OUT --resume`` started a few seconds apart) never
interleave their files. The lock is ``OUT/.pscgan.lock``: an advisory ``flock`` held on it (released by
the kernel when the holder dies, however it dies) plus a JSON record of the holder for the message the
second writer gets. Where ``flock`` is missing (Windows), the record alone is the lock: a record naming
a process of this host that no longer runs is stale and taken over.

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with output_lock(out):
    ...     (out / LOCK_FILE).is_file()
    True
    >>> (out / LOCK_FILE).exists()
    False
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pscgan.errors import OutputError, OutputExistsError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: the pid record alone is the lock
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".pscgan.lock"
# folders this process holds, with their depth: a command that calls another writer on the same folder
# (an experiment training its runs) must not lock itself out
_HELD: dict[Path, int] = {}


class LockedError(OutputExistsError):
    """Another pscgan process is writing the output folder."""


def holder_record() -> dict[str, Any]:
    """Who holds a lock: this process's pid, host and command line."""
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:500] if sys.argv else ""
    return {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
            "since": time.strftime("%Y-%m-%d %H:%M:%S")}


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists but belongs to someone else (or cannot be told): assume alive
    return True


def _describe(record: dict[str, Any] | None) -> str:
    if not record:
        return "another pscgan process"
    return (f"pscgan process {record.get('pid')} on {record.get('host')} (since {record.get('since')}: "
            f"{record.get('command')})")


def _refuse(folder: Path, record: dict[str, Any] | None) -> LockedError:
    return LockedError(folder, f"is being written by {_describe(record)}; wait for it to finish, or, if no "
                               f"such process runs any more, delete {LOCK_FILE} in this folder")


def _stale(record: dict[str, Any] | None) -> bool:
    """A record of a process of this host that no longer runs (an empty or unreadable record is a lock
    file whose writer died before filling it)."""
    if record is None:
        return True
    return record.get("host") == socket.gethostname() and not _pid_alive(record.get("pid"))


def _acquire_flock(folder: Path, path: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise _refuse(folder, _read_record(path)) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the holder removed the file between our open and flock: take the new one
            os.close(fd)
            continue
        record = _read_record(path)
        if record is not None and not _stale(record) and record.get("host") != socket.gethostname():
            # a holder on another host whose flock this file system may not show (NFS without locks)
            os.close(fd)
            raise _refuse(folder, record)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(holder_record()).encode("utf-8"))
        os.fsync(fd)
        return fd


def _acquire_record(folder: Path, path: Path) -> int:  # pragma: no cover - without flock (Windows)
    for _ in range(100):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            record = _read_record(path)
            if not _stale(record):
                raise _refuse(folder, record) from None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            continue
        os.write(fd, json.dumps(holder_record()).encode("utf-8"))
        os.fsync(fd)
        return fd
    raise _refuse(folder, _read_record(path))


@contextlib.contextmanager
def output_lock(folder: str | Path) -> Iterator[Path]:
    """Hold the lock of the output folder ``folder`` (created if missing) while the block runs.

    A folder created here is removed again when the block fails before writing anything into it.

    Re-entrant within a process. A lock held by a live process refuses with :class:`LockedError` (an
    :class:`~pscgan.errors.OutputExistsError` naming the holder's pid, host and command); a lock left by
    a dead process of this host is taken over.

    Raises:
        LockedError: another process writes ``folder``.
        OutputError: ``folder`` cannot be created or written (see :func:`pscgan.io.paths.make_folder`).
    """
    from pscgan.io.paths import make_folder

    created = not Path(folder).exists()
    folder = make_folder(folder)
    key = folder.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield folder
        finally:
            _HELD[key] -= 1
        return
    path = folder / LOCK_FILE
    try:
        fd = _acquire_flock(folder, path) if fcntl is not None else _acquire_record(folder, path)
    except PermissionError:
        raise OutputError(folder, "cannot write here (permission denied); choose another output location"
                                ) from None
    except OSError as exc:
        raise OutputError(folder, f"cannot lock this output folder ({exc.strerror or exc})") from None
    _HELD[key] = 1
    failed = True
    try:
        yield folder
        failed = False
    finally:
        del _HELD[key]
        # unlink while still holding the flock: a waiter that opened the old file sees another inode
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)
        if created and failed:  # a command refused before writing leaves no folder behind
            _remove_if_empty(folder)


def _remove_if_empty(folder: Path) -> None:
    from pscgan.io.atomic import OUTPUT_MARKER

    with contextlib.suppress(OSError):
        if [p.name for p in folder.iterdir()] == [OUTPUT_MARKER]:
            (folder / OUTPUT_MARKER).unlink()
        folder.rmdir()
