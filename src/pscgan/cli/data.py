"""``pscgan data``: check a dataset folder and build its packed training cache."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Check datasets and build training caches.")
