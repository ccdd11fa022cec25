"""Shared helpers of the command-line modules."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import typer

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
    """Turn the project's own errors into a one-line message and exit code 2 (no traceback).

    Only :class:`pscgan.errors.PscganError` is caught: anything else is a bug and should be reported
    with its traceback.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pscgan.errors import PscganError

        try:
            return fn(*args, **kwargs)
        except PscganError as exc:
            from rich.console import Console
            from rich.markup import escape

            # messages may hold brackets (paths, `pip install "pscgan[export]"`) that are not markup
            message = escape(str(exc))
            # soft wrap: a wrapped path cannot be copied back into a shell
            console = Console(stderr=True, soft_wrap=True)
            console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
            raise typer.Exit(code=2) from None

    return cast(F, wrapper)  # the same signature: functools.wraps


@contextlib.contextmanager
def writing(
    out: Path, inputs: Iterable[Path | None] = (), *, may_hold_out: Iterable[Path] = ()
) -> Iterator[Path]:
    """Hold the output folder ``out`` for a command: refused when it is an input, holds one or lies inside
    one (except directly in ``may_hold_out``), or when another process writes it; locked while the block runs.
    """
    from pscgan.errors import InputError
    from pscgan.io.lock import output_lock
    from pscgan.io.paths import check_not_input

    given = [p for p in inputs if p is not None]
    for p in given:  # before the lock creates the output folder, which may lie in an input
        if not p.exists():
            raise InputError(p, "not found")
    check_not_input(out, given, may_hold_out=may_hold_out)
    with output_lock(out):
        yield out


def output_file(path: Path, inputs: Iterable[Path | None] = (), *, may_hold_out: Iterable[Path] = (),
                ours: Callable[[Path], bool] | None = None) -> Path:
    """Check a single output file (written atomically, so not locked): its folder must be writable, and it
    may not be an input or a folder. An existing file is replaced (``--overwrite``) only when ``ours`` says
    it is what this command writes: a user's file of another kind is never overwritten."""
    from pscgan.errors import OutputExistsError
    from pscgan.io.paths import check_not_input, check_output_file

    check_output_file(path)
    check_not_input(path, [p for p in inputs if p is not None], may_hold_out=may_hold_out)
    if ours is not None and path.is_file() and not ours(path):
        raise OutputExistsError(path, "exists and is not a file this command writes, so --overwrite does not "
                                      "replace it; choose another file name")
    return path


def quantify_json(path: Path) -> bool:
    """Whether ``path`` is a JSON file written by ``pscgan quantify --json``."""
    from pscgan.errors import InputError
    from pscgan.io.jsonfile import read_json

    try:
        data = read_json(path, expect=dict)
    except InputError:
        return False
    return {"file", "subject", "segments"} <= set(data)


def named(*suffixes: str) -> Callable[[Path], bool]:
    """``ours`` for :func:`output_file`: an existing file with one of these name endings."""
    return lambda path: path.name.lower().endswith(suffixes)


def print_paper_tables(out: Any, tables: dict[str, Any]) -> None:
    """Print the evaluation's Table 1 / Table 2 pairs (header, rows) as rich tables."""
    from rich.table import Table

    for name, (ha, ra, hb, rb) in tables.items():
        for header, rows in ((ha, ra), (hb, rb)):
            t = Table(*header, title=name)
            for row in rows:
                t.add_row(*[str(x) for x in row])
            out.print(t)
