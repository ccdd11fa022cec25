"""``pscgan bench``: speed and memory benchmarks (results are written to files, never asserted in tests)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Speed and memory benchmarks.")
