"""The canonical dataset layout shared by real data and the phantom, and the packed training cache."""

from __future__ import annotations
