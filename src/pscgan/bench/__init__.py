"""Benchmarks whose results are written to files (never asserted in tests)."""

from __future__ import annotations
