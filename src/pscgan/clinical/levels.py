"""Slice levels and RV insertion angles when the metadata does not give them.

Slice level: the slices that contain myocardium are divided into three equal thirds along the stack
(the AHA convention of dividing the LV into basal, mid and apical thirds); the base is the end whose
LV cavity is larger (the LV tapers towards the apex). With one or two myocardial slices, the slices
are taken as mid (and mid + basal/apical by cavity size).

RV insertion angle: without metadata and without an RV label it cannot be measured from an LV-only
label map; the typical angle of the display convention (:data:`DEFAULT_RV_INSERTION_DEG`) is then
*assumed*, and every result records that it was.

Example:
    >>> import numpy as np
    >>> from pscgan.labels import Tissue
    >>> vol = np.zeros((16, 16, 6), np.uint8)
    >>> for k, r in enumerate([6, 6, 5, 4, 3, 2]):  # cavity shrinks towards the apex
    ...     vol[8 - r - 1:8 + r + 1, 8 - r - 1:8 + r + 1, k] = Tissue.MYOCARDIUM
    ...     vol[8 - r:8 + r, 8 - r:8 + r, k] = Tissue.BLOOD_POOL
    >>> [lvl.value if lvl else None for lvl in infer_levels(vol)]
    ['basal', 'basal', 'mid', 'mid', 'apical', 'apical']
"""

from __future__ import annotations

import numpy as np

from pscgan.data.layout import SliceLevel
from pscgan.labels import Tissue

#: Anterior RV insertion angle assumed when it is not known (display convention; the phantom samples
#: 110-130 degrees, the middle of the range seen in short-axis views shown anterior-up).
DEFAULT_RV_INSERTION_DEG = 120.0


def infer_levels(labels_xyz: np.ndarray) -> list[SliceLevel | None]:
    """Level of each slice of an ``(x, y, slice)`` label volume; ``None`` for slices without myocardium."""
    lab = np.asarray(labels_xyz)
    myo = np.isin(lab, (Tissue.MYOCARDIUM, Tissue.SCAR)).sum(axis=(0, 1))
    cavity = (lab == Tissue.BLOOD_POOL).sum(axis=(0, 1))
    idx = [k for k in range(lab.shape[2]) if myo[k] > 0]
    levels: list[SliceLevel | None] = [None] * lab.shape[2]
    if not idx:
        return levels
    n = len(idx)
    # Base at the end with the larger cavity.
    base_first = cavity[idx[0]] >= cavity[idx[-1]]
    ordered = idx if base_first else idx[::-1]
    if n == 1:
        levels[ordered[0]] = SliceLevel.MID
        return levels
    if n == 2:
        levels[ordered[0]], levels[ordered[1]] = SliceLevel.BASAL, SliceLevel.MID
        return levels
    thirds = np.array_split(np.arange(n), 3)
    for level, part in zip((SliceLevel.BASAL, SliceLevel.MID, SliceLevel.APICAL), thirds):
        for j in part:
            levels[ordered[j]] = level
    return levels
