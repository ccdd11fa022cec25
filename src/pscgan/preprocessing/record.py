"""The record of what preprocessing did to one slice, and the inverse mapping to the original geometry.

Every step returns its result and a small pydantic model saying what it did; :class:`SliceRecord`
collects them per slice and is JSON-serialisable (``record.model_dump(mode="json")``). With it a 64x64
network output goes back to the original slice grid: :func:`to_original_geometry` undoes the crop (and
its padding) and the in-plane resampling (nearest neighbour for labels, linear for images), and
:func:`to_original_volume` stacks slices into the original ``(x, y, slice)`` axes, ready to be written with
the original affine (``record.original_affine``).

Registration moves the LGE (and the labels) onto the cine; the network works in the cine's geometry, so
outputs need no registration inverse.

Example:
    >>> import numpy as np
    >>> crop = CropRecord(row0=10, col0=-2, size=4, grid_shape=(20, 20))
    >>> rec = SliceRecord(subject_id="s1", slice_index=0, n_slices=1, original_shape_rc=(20, 20),
    ...                   original_spacing_mm=(1.5, 1.5, 8.0), original_affine=np.eye(4).tolist(),
    ...                   temporal=TemporalRecord(original_n_phases=25, n_phases=25, method="identity"),
    ...                   localisation=LocalisationRecord(method="centre", centre_rc=(12.0, 0.0)), crop=crop)
    >>> back = to_original_geometry(np.ones((4, 4), np.uint8), rec, kind="labels")
    >>> back.shape, int(back.sum()), int(back[10:14, 0:2].sum())  # half the box was padding
    ((20, 20), 8, 8)
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

RECORD_SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OutputKind(str, Enum):
    """How an array is interpolated when mapped back: images linearly, labels by nearest neighbour."""

    IMAGE = "image"
    LABELS = "labels"


class TemporalRecord(_Model):
    """Temporal resampling of the cine (phase 0 is end-diastole before and after)."""

    original_n_phases: int = Field(ge=1)
    n_phases: int = Field(ge=1)
    method: str = Field(description="'identity', 'linear' (periodic) or 'fourier'")
    ed_phase: int = Field(default=0, ge=0, description="original index of the end-diastolic phase")
    original_trigger_times_ms: list[float] | None = None
    rr_interval_ms: float | None = Field(default=None, description="cardiac cycle length used as the period")


class InPlaneRecord(_Model):
    """In-plane resampling to a target pixel spacing (row, col order)."""

    original_shape: tuple[int, int]
    original_spacing_mm: tuple[float, float]
    shape: tuple[int, int]
    spacing_mm: tuple[float, float]


class GridMappingRecord(_Model):
    """An LGE/label volume resampled onto the cine's slice grid because its own grid differed."""

    source_shape: tuple[int, int, int]
    source_spacing_mm: tuple[float, float, float]
    voxel_map: list[list[float]] = Field(
        description="4x4 matrix: cine voxel -> source voxel (in-plane part used)")


class LocalisationRecord(_Model):
    """Where the LV centre was found, in (row, col) pixels of the (resampled) slice grid."""

    method: str = Field(
        description="'detector' (the learned LV detector), 'detector-stack' (its subject-level "
        "fallback), 'labels', 'labels-stack', 'cine', 'cine-stack' or 'centre'"
    )
    centre_rc: tuple[float, float]
    score: float | None = None
    confidence: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="the detector's confidence that this slice shows the LV where it says (0-1); None for "
                    "methods that give none")
    size_mm: float | None = Field(
        default=None, gt=0.0, description="equivalent diameter of the LV (epicardium) in this slice, in mm")


class RegistrationOutcome(str, Enum):
    """What became of a registration: applied, or why the images were kept as they were."""

    APPLIED = "applied"
    NO_IMPROVEMENT = "no_improvement"            # no pose beat the identity's similarity
    UNDEFINED_SIMILARITY = "undefined_similarity"  # the window holds no structure (NMI not defined)
    AT_BOUND = "at_bound"                        # the best pose sat on the shift or rotation bound


class RegistrationRecord(_Model):
    """Rigid transform that moved the LGE (and labels) onto the cine end-diastolic frame.

    A moving-image point ``p`` (row, col) goes to ``R (p - c) + c + shift`` with ``R`` the
    counter-clockwise display rotation by ``rotation_deg`` (up = decreasing row) about ``c = centre_rc``.
    """

    rotation_deg: float
    shift_rc_px: tuple[float, float]
    shift_mm: tuple[float, float]
    centre_rc: tuple[float, float]
    metric: str = "normalised mutual information"
    metric_before: float | None = Field(default=None, description="similarity of the unmoved images")
    metric_after: float | None = Field(default=None, description="similarity after the transform")
    applied: bool = Field(description="False when the images were kept as they were (see outcome)")
    outcome: RegistrationOutcome | None = Field(
        default=None, description="why the transform was or was not applied (None: recorded before pscgan "
                                  "stored it)")


class CropRecord(_Model):
    """A ``size`` x ``size`` box with top-left corner (row0, col0) in a ``grid_shape`` image.

    The box may leave the image (negative corner or beyond the far edge); those pixels were padded.
    """

    row0: int
    col0: int
    size: int = Field(gt=0)
    grid_shape: tuple[int, int]


class IntensityRecord(_Model):
    """Linear map of ``[low, high]`` (the given percentiles of the slice crop) to ``[-1, 1]``, clipped."""

    percentiles: tuple[float, float]
    low: float
    high: float


class SliceRecord(_Model):
    """Everything needed to map a prepared slice back to its source."""

    schema_version: int = RECORD_SCHEMA_VERSION
    subject_id: str
    slice_index: int = Field(ge=0)
    n_slices: int = Field(ge=1)
    sources: dict[str, str | None] = Field(default_factory=dict)
    original_shape_rc: tuple[int, int] = Field(description="(rows, cols) = (y, x) size of the original slice")
    original_spacing_mm: tuple[float, float, float] = Field(
        description="(x, y, slice) voxel size of the cine")
    original_affine: list[list[float]]
    temporal: TemporalRecord
    inplane: InPlaneRecord | None = None
    lge_grid: GridMappingRecord | None = None
    labels_grid: GridMappingRecord | None = None
    localisation: LocalisationRecord
    registration: RegistrationRecord | None = None
    crop: CropRecord
    intensity: dict[str, IntensityRecord] = Field(default_factory=dict)


def to_original_geometry(array: np.ndarray, record: SliceRecord, kind: OutputKind | str = OutputKind.IMAGE,
                         *, fill: float | None = None) -> np.ndarray:
    """Map a network-grid array ``(..., size, size)`` back onto the original slice grid ``(..., rows, cols)``.

    Args:
        array: a prepared-slice-sized output (leading axes, e.g. time, are kept).
        record: the slice's record.
        kind: ``"labels"`` (nearest neighbour, result keeps the integer dtype) or ``"image"`` (linear).
        fill: value outside the crop; default 0 for labels and the array's minimum for images.

    Returns:
        The array in display orientation (rows follow y, columns follow x) of the original slice.
    """
    from pscgan.preprocessing.crop import uncrop_array
    from pscgan.preprocessing.spatial import resize_2d

    kind = OutputKind(kind)
    array = np.asarray(array)
    if fill is None:
        fill = 0 if kind is OutputKind.LABELS else float(array.min())
    grid = uncrop_array(array, record.crop, fill)
    if record.inplane is not None and tuple(record.inplane.shape) != tuple(record.inplane.original_shape):
        grid = resize_2d(grid, record.inplane.original_shape, order=0 if kind is OutputKind.LABELS else 1)
    if grid.shape[-2:] != tuple(record.original_shape_rc):
        raise ValueError(f"record is inconsistent: mapped back to {grid.shape[-2:]}, "
                         f"original slice is {tuple(record.original_shape_rc)}")
    return grid.astype(array.dtype, copy=False)


def to_original_volume(arrays: Sequence[np.ndarray], records: Sequence[SliceRecord],
                       kind: OutputKind | str = OutputKind.IMAGE, *, fill: float = 0.0) -> np.ndarray:
    """Stack per-slice network outputs into the original volume axes.

    Args:
        arrays: one ``(size, size)`` (or ``(time, size, size)``) array per record.
        records: the slices' records (all from one subject; slices not given are filled with ``fill``).
        kind: ``"labels"`` or ``"image"``.
        fill: value of voxels outside the crops and of missing slices.

    Returns:
        ``(x, y, slice)`` (or ``(x, y, slice, time)``) array to write with ``records[0].original_affine``.
    """
    if len(arrays) != len(records) or not records:
        raise ValueError("need one array per record and at least one record")
    rows, cols = records[0].original_shape_rc
    lead = np.asarray(arrays[0]).shape[:-2]
    dtype = np.asarray(arrays[0]).dtype
    out = np.full((cols, rows, records[0].n_slices) + lead[::-1], fill, dtype=dtype)
    for array, record in zip(arrays, records):
        if record.subject_id != records[0].subject_id or tuple(record.original_shape_rc) != (rows, cols):
            raise ValueError("records come from different subjects or slice grids")
        display = to_original_geometry(array, record, kind, fill=fill)  # (..., rows, cols)
        out[:, :, record.slice_index] = display.T  # (rows, cols[, ...]) -> (x, y[, ...]) with time last
    return out
