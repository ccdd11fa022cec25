"""Run the command-line interface with ``python -m pscgan``."""

from __future__ import annotations

from pscgan.cli.main import app

if __name__ == "__main__":  # pragma: no cover
    app()
