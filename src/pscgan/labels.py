"""Tissue classes and label encodings.

The project's label maps use four classes (architecture notes, data contract). Papillary muscles
and trabeculae are labelled blood pool, as in the ACDC convention.

Example:
    >>> import numpy as np
    >>> emidec = np.array([0, 1, 2, 3, 4], dtype=np.uint8)
    >>> from_emidec(emidec).tolist()
    [0, 1, 2, 3, 3]
    >>> Tissue.SCAR.display_name
    'scar'
"""

from __future__ import annotations

from enum import Enum, IntEnum

import numpy as np


class Tissue(IntEnum):
    """The four classes of a pscgan label map."""

    OTHER = 0
    BLOOD_POOL = 1
    MYOCARDIUM = 2  # healthy (remote) myocardium
    SCAR = 3

    @property
    def display_name(self) -> str:
        return _DISPLAY_NAMES[self]


_DISPLAY_NAMES = {
    Tissue.OTHER: "other",
    Tissue.BLOOD_POOL: "LV blood pool",
    Tissue.MYOCARDIUM: "healthy myocardium",
    Tissue.SCAR: "scar",
}

NUM_CLASSES = len(Tissue)

#: Label names as written to ``dataset.json`` (name -> integer value).
LABEL_NAMES: dict[str, int] = {
    "other": Tissue.OTHER,
    "lv_blood_pool": Tissue.BLOOD_POOL,
    "healthy_myocardium": Tissue.MYOCARDIUM,
    "scar": Tissue.SCAR,
}


class LabelEncoding(str, Enum):
    """Encodings of label maps that the readers accept."""

    PSCGAN = "pscgan"  # 0 other, 1 blood pool, 2 healthy myocardium, 3 scar
    EMIDEC = "emidec"  # 0 background, 1 cavity, 2 normal myocardium, 3 infarction, 4 no-reflow


# EMIDEC no-reflow (microvascular obstruction) is part of the infarct, hence scar.
_EMIDEC_LUT = np.array(
    [Tissue.OTHER, Tissue.BLOOD_POOL, Tissue.MYOCARDIUM, Tissue.SCAR, Tissue.SCAR], np.uint8
)


def from_emidec(labels: np.ndarray) -> np.ndarray:
    """Map an EMIDEC label map to the pscgan encoding.

    Args:
        labels: integer array with values in 0..4.

    Returns:
        uint8 array of the same shape with values in 0..3.

    Raises:
        ValueError: if a value outside 0..4 occurs.
    """
    arr = np.asarray(labels)
    if arr.size and (arr.min() < 0 or arr.max() > 4 or not np.all(np.equal(np.mod(arr, 1), 0))):
        raise ValueError("EMIDEC labels must be integers in 0..4")
    return _EMIDEC_LUT[arr.astype(np.int64)]


def to_pscgan(labels: np.ndarray, encoding: LabelEncoding | str = LabelEncoding.PSCGAN) -> np.ndarray:
    """Convert a label map in ``encoding`` to the pscgan encoding (uint8, values 0..3).

    Raises:
        ValueError: if the values do not fit the encoding.
    """
    encoding = LabelEncoding(encoding)
    arr = np.asarray(labels)
    if encoding is LabelEncoding.EMIDEC:
        return from_emidec(arr)
    if arr.size and (arr.min() < 0 or arr.max() > 3 or not np.all(np.equal(np.mod(arr, 1), 0))):
        raise ValueError(
            "pscgan labels must be integers in 0..3 (0 other, 1 blood pool, 2 myocardium, 3 scar)"
        )
    return arr.astype(np.uint8)
