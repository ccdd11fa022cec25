"""``pscgan phantom``: generate and validate the numerical cine + LGE phantom."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Generate and validate the numerical cine + LGE phantom.")
