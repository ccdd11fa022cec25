"""What a report is made from: per-slice images and the quantification of one subject.

The caller (prediction, evaluation) fills these; the report module only draws and formats them. All
2D arrays are in display orientation (``[row, col]``, row 0 at the top: the layout's
``volume[:, :, k].T``). Text fields (``subject_id``, ``details``) are shown as given, HTML-escaped: the
caller removes patient identifiers before building them.

Example:
    >>> import numpy as np
    >>> view = SliceView(index=0, level="mid", spacing_mm=(1.5, 1.5), cine=np.zeros((25, 64, 64)),
    ...                  lge_synthetic=None, lge_reference=None, labels_predicted=None, labels_reference=None)
    >>> view.shape
    (64, 64)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pscgan.clinical.quantify import Quantification
from pscgan.labels import NUM_CLASSES


@dataclass
class SliceView:
    """The images of one short-axis slice.

    Attributes:
        index: slice index in the subject's stack (matches ``Quantification.slices[i].index``).
        level: ``"basal"``, ``"mid"``, ``"apical"`` or ``None`` when unknown.
        spacing_mm: ``(row, col)`` pixel size in mm (used for the displayed aspect ratio).
        cine: ``(T, H, W)`` cine frames, any intensity range; frame 0 is taken as end-diastole.
        lge_synthetic: ``(H, W)`` synthetic LGE, or ``None``.
        lge_reference: ``(H, W)`` acquired LGE, or ``None``.
        labels_predicted: ``(H, W)`` predicted labels 0..3, or ``None``.
        labels_reference: ``(H, W)`` reference labels 0..3, or ``None``.
    """

    index: int
    level: str | None
    spacing_mm: tuple[float, float]
    cine: np.ndarray
    lge_synthetic: np.ndarray | None
    lge_reference: np.ndarray | None
    labels_predicted: np.ndarray | None
    labels_reference: np.ndarray | None

    def __post_init__(self) -> None:
        where = f"slice {self.index}"
        self.cine = np.asarray(self.cine)
        if self.cine.ndim != 3 or min(self.cine.shape) < 1:
            raise ValueError(f"{where}: cine must be a (T, H, W) array, got shape {self.cine.shape}")
        if len(self.spacing_mm) != 2 or not all(np.isfinite(s) and s > 0 for s in self.spacing_mm):
            raise ValueError(
                f"{where}: spacing_mm must be two positive (row, col) sizes, got {self.spacing_mm}"
            )
        self.spacing_mm = (float(self.spacing_mm[0]), float(self.spacing_mm[1]))
        for name in ("lge_synthetic", "lge_reference", "labels_predicted", "labels_reference"):
            arr = getattr(self, name)
            if arr is None:
                continue
            arr = np.asarray(arr)
            if arr.shape != self.shape:
                raise ValueError(
                    f"{where}: {name} has shape {arr.shape} but the cine frames are {self.shape}"
                )
            if name.startswith("labels"):
                if arr.size and (arr.min() < 0 or arr.max() >= NUM_CLASSES):
                    raise ValueError(f"{where}: {name} must hold labels 0..{NUM_CLASSES - 1}")
                arr = arr.astype(np.uint8)
            setattr(self, name, arr)

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of one frame."""
        return int(self.cine.shape[1]), int(self.cine.shape[2])


@dataclass
class SubjectReportData:
    """Everything one subject's report shows.

    Attributes:
        subject_id: the (de-identified) subject name shown as the page title.
        slices: the slices to draw, in stack order.
        predicted: quantification of the predicted labels, or ``None``.
        reference: quantification of the reference labels, when available.
        imaging_metrics: e.g. ``{"dice_overall": .., "dice_scar": .., "ssim": .., "psnr_db": ..}``;
            ``None`` values are shown as "not defined".
        details: free text from the input metadata (scanner, field strength, ...), shown as given.
        notes: what the reader must know to read the numbers (e.g. the reference annotates no scar),
            shown with the quantification's notes.
    """

    subject_id: str
    slices: list[SliceView]
    predicted: Quantification | None
    reference: Quantification | None
    imaging_metrics: dict[str, float | None] | None = None
    details: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def slices_not_assessed(self) -> list[tuple[int, str]]:
        """``(index, reason)`` of the slices the prediction's quality check did not assess."""
        q = self.predicted
        return [] if q is None else [(s.index, s.quality.reason) for s in q.slices
                                     if s.quality is not None and not s.quality.assessed]
