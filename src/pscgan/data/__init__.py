"""The canonical dataset layout shared by real data and the phantom, the packed training cache, and the
LGE registration protocol a dataset is prepared with (:mod:`pscgan.data.protocol`)."""

from __future__ import annotations
