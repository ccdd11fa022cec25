"""What the library shows on a terminal: the console and the progress bars (rich).

Library code that reports progress (training, prediction, cohort generation) imports it from here, never
from :mod:`pscgan.cli`, which sits on top of every other package (see ``tests/test_layers.py``).

Example:
    >>> len(progress_columns())
    5
"""

from __future__ import annotations

import sys
from typing import Any


def console() -> Any:
    """A rich console on standard output that wraps long lines softly (paths stay copyable)."""
    from rich.console import Console

    return Console(stderr=False, soft_wrap=True)


def progress_columns() -> tuple[Any, ...]:
    """Columns of the project's progress bars: description, bar, done/total, elapsed, remaining."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn())


def progress_enabled() -> bool:
    """Show live progress bars only on an interactive terminal (not in CI logs or pipes)."""
    return sys.stderr.isatty()
