"""The ``pscgan`` command line (typer). Heavy imports (torch, nibabel, ...) happen inside commands so
that ``pscgan --help`` starts fast."""

from __future__ import annotations
