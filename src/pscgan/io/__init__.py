"""Reading and writing images: NIfTI, DICOM series and NPZ, plus atomic output helpers.

Every reader returns an :class:`~pscgan.io.image.ImageVolume`: an array plus the metadata needed to
map results back to the original geometry (affine, spacing, source path).
"""

from __future__ import annotations
