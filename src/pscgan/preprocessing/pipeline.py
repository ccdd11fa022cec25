"""From volumes in any geometry to the network's data contract, one record per slice.

Per slice, in this order: temporal resampling of the cine to ``n_phases`` (end-diastole stays phase 0),
optional in-plane resampling, LV localisation, optional rigid registration of the LGE to the cine
end-diastolic frame, a ``crop_size`` crop around the LV centre, and robust intensity scaling to [-1, 1]
of the cine (all phases together) and of the LGE. LGE and label volumes whose grid differs from the cine's
are first resampled onto it (slice ``k`` pairs with cine slice ``k``). Data that already fits (25 phases,
native spacing) only goes through the integer crop and the scaling: no interpolation.

Example:
    >>> import numpy as np
    >>> from pscgan.io.image import ImageVolume
    >>> rng = np.random.default_rng(0)
    >>> cine = ImageVolume(rng.random((64, 64, 2, 25)).astype(np.float32), spacing=(1.5, 1.5, 8.0))
    >>> slices = prepare_arrays(cine, None, None, PreprocessOptions(localisation="centre"), subject_id="s1")
    >>> len(slices), slices[0].cine.shape, slices[0].cine.dtype.name, float(slices[0].cine.max())
    (2, (25, 64, 64), 'float32', 1.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pscgan.errors import ConfigError, InputError
from pscgan.io.image import ImageVolume
from pscgan.preprocessing.crop import crop_array, crop_box
from pscgan.preprocessing.intensity import ConstantImageError, scale_intensity
from pscgan.preprocessing.localisation import LocalisationMethod
from pscgan.preprocessing.localisation import centre_from_labels
from pscgan.preprocessing.record import IntensityRecord, LocalisationRecord, SliceRecord
from pscgan.preprocessing.registration import apply_rigid, register_rigid
from pscgan.preprocessing.slices import ResampledSlice, locate_centres, resample_slice
from pscgan.preprocessing.spatial import on_reference_grid
from pscgan.preprocessing.temporal import TemporalMethod

if TYPE_CHECKING:
    from pscgan.data.layout import Subject


@dataclass
class PreprocessOptions:
    """Settings of :func:`prepare_arrays` (defaults: the paper's data contract).

    Attributes:
        n_phases: cine phases after temporal resampling.
        crop_size: side of the square crop around the LV, in pixels.
        target_spacing_mm: in-plane spacing to resample to; None keeps the native spacing (paper).
        intensity_percentiles: percentiles mapped to -1 and +1.
        register_lge: rigidly register the LGE to the cine end-diastolic frame.
        labels_follow_lge: labels were drawn on the LGE (clinical practice), so they move with it when
            it is registered; set False when labels are in the cine's geometry (the phantom's are).
        localisation: ``"labels"``, ``"cine"``, ``"auto"`` (labels when present) or ``"centre"``.
        temporal_method: ``"linear"`` (periodic) or ``"fourier"``.
        max_registration_shift_mm: bound on the registration translation.
        max_registration_angle_deg: bound on the registration rotation.
        fov_heart_ratio: when set, the crop's field of view is this many times the subject's largest
            LV (epicardial) diameter at end-diastole, so that a small heart and a dilated one fill the
            crop alike: the in-plane spacing becomes ``fov_heart_ratio * diameter / crop_size`` (one
            spacing per subject, bounded by :data:`FOV_SPACING_BOUNDS_MM`), replacing
            ``target_spacing_mm``. A pair ``(low, high)`` keeps the subject's own field of view when its
            ratio lies between the two and brings it to the nearer one otherwise (for a model trained
            without the rule: it is fed as it was trained wherever it can be). The diameter comes from the
            labels (``labels``/``auto`` with labels) or the LV detector (``detector``); without either the
            spacing stays ``target_spacing_mm``.
    """

    n_phases: int = 25
    crop_size: int = 64
    target_spacing_mm: float | None = None
    intensity_percentiles: tuple[float, float] = (0.5, 99.5)
    register_lge: bool = False
    labels_follow_lge: bool = True
    localisation: LocalisationMethod | str = LocalisationMethod.AUTO
    temporal_method: TemporalMethod | str = TemporalMethod.LINEAR
    max_registration_shift_mm: float = 10.0
    max_registration_angle_deg: float = 10.0
    fov_heart_ratio: float | tuple[float, float] | None = None

    def __post_init__(self) -> None:
        try:
            self.localisation = LocalisationMethod(self.localisation)
            self.temporal_method = TemporalMethod(self.temporal_method)
        except ValueError as exc:
            raise ConfigError(None, f"invalid preprocessing option: {exc}") from None
        lo, hi = self.intensity_percentiles
        problems = [msg for bad, msg in (
            (self.n_phases < 2, f"n_phases must be >= 2, got {self.n_phases}"),
            (self.crop_size < 8, f"crop_size must be >= 8, got {self.crop_size}"),
            (self.target_spacing_mm is not None and not self.target_spacing_mm > 0,
             f"target_spacing_mm must be positive, got {self.target_spacing_mm}"),
            (not 0 <= lo < hi <= 100,
             f"intensity_percentiles must satisfy 0 <= low < high <= 100, got {(lo, hi)}"),
            (self.max_registration_shift_mm < 0 or self.max_registration_angle_deg < 0,
             "registration bounds must be non-negative"),
            (self.fov_heart_ratio is not None and not _valid_ratio(self.fov_heart_ratio),
             f"fov_heart_ratio must be a number in [1, 10] or a pair low <= high in it, got "
             f"{self.fov_heart_ratio}"),
        ) if bad]
        if problems:
            raise ConfigError(None, "; ".join(problems))


def _valid_ratio(value: object) -> bool:
    if isinstance(value, (tuple, list)):
        return len(value) == 2 and all(isinstance(v, (int, float)) for v in value) and \
            1.0 <= value[0] <= value[1] <= 10.0
    return isinstance(value, (int, float)) and 1.0 <= value <= 10.0


FOV_SPACING_BOUNDS_MM = (0.5, 4.0)
"""The in-plane spacings the field-of-view rule may choose: beyond them the detected size is implausible."""

Locator = Callable[[np.ndarray, tuple[float, float], int], list[LocalisationRecord]]
"""A learned LV detector: ``(cine (time, slice, rows, cols), (row, col) spacing mm, ED phase)`` -> one
record per slice on that grid, with ``confidence`` and ``size_mm`` (see :mod:`pscgan.anatomy`)."""


@dataclass
class PreparedSlice:
    """One slice in the network's data contract.

    Attributes:
        cine: ``(n_phases, crop, crop)`` float32 in [-1, 1], (time, row, col), phase 0 = end-diastole.
        lge: ``(crop, crop)`` float32 in [-1, 1], or None.
        labels: ``(crop, crop)`` uint8 (0 other, 1 LV blood pool, 2 healthy myocardium, 3 scar), or None.
        spacing_mm: (row, col) pixel spacing after resampling, i.e. (y, x).
        rv_insertion_angle_deg: anterior RV insertion angle (degrees ccw from +col, up = -row), or None.
        record: how to map outputs back to the original geometry (JSON: ``record.model_dump(mode="json")``).
    """

    subject_id: str
    slice_index: int
    level: str | None
    cine: np.ndarray
    lge: np.ndarray | None
    labels: np.ndarray | None
    spacing_mm: tuple[float, float]
    rv_insertion_angle_deg: float | None
    record: SliceRecord


def prepare_subject(subject: Subject, options: PreprocessOptions | None = None, *,
                    locator: Locator | None = None,
                    geometry: Sequence[SliceRecord] | None = None) -> list[PreparedSlice]:
    """Prepare every slice of a subject loaded with :func:`pscgan.data.layout.load_subject` (``locator``
    and ``geometry`` as in :func:`prepare_arrays`)."""
    info = subject.info
    levels, angles = info.slice_metadata(subject.cine.array.shape[2])
    return prepare_arrays(subject.cine, subject.lge, subject.labels, options, subject_id=info.subject_id,
                          levels=levels, angles=angles, rr_interval_ms=info.rr_interval_ms,
                          ed_phase=info.ed_phase, locator=locator, geometry=geometry)


def prepare_arrays(cine: ImageVolume, lge: ImageVolume | None = None, labels: ImageVolume | None = None,
                   options: PreprocessOptions | None = None, subject_id: str = "subject",
                   levels: Sequence[str | None] | None = None, angles: Sequence[float | None] | None = None,
                   *, rr_interval_ms: float | None = None, ed_phase: int = 0, locator: Locator | None = None,
                   geometry: Sequence[SliceRecord] | None = None) -> list[PreparedSlice]:
    """Prepare every slice of raw volumes (e.g. from :func:`pscgan.io.reader.read_image`).

    Args:
        cine: ``(x, y, slice, time)``; ``meta["trigger_times_ms"]`` and ``meta["rr_interval_ms"]`` are used
            when present.
        lge: ``(x, y, slice)`` or None.
        labels: ``(x, y, slice)`` with values 0..3 or None.
        options: preprocessing settings (defaults when None).
        subject_id: recorded in every slice.
        levels: slice level per slice (``"basal"``/``"mid"``/``"apical"``) or None.
        angles: anterior RV insertion angle per slice (degrees) or None.
        rr_interval_ms: cardiac cycle length; overrides ``cine.meta["rr_interval_ms"]``.
        ed_phase: index of the end-diastolic phase in the cine.
        locator: the LV detector, needed for ``localisation="detector"``.
        geometry: records of an earlier preparation of the same cine (a prediction's): each slice is
            resampled and cropped exactly as its record says, with no localisation (how a reference is
            put on the very pixels a prediction covers).

    Raises:
        InputError: naming the file: wrong dimensions, empty or non-finite data, invalid voxel sizes or
            affines, invalid trigger times or RR interval, mismatched slice counts, invalid labels, blank
            slices, resampling beyond the size limit.
        ConfigError: invalid options (e.g. ``localisation="labels"`` without labels).
    """
    options = options or PreprocessOptions()
    n_slices = _check_cine(cine)
    for name, values in (("levels", levels), ("angles", angles)):
        if values is not None and len(values) != n_slices:
            raise ValueError(f"{name} has {len(values)} entries for {n_slices} slices")
    lge_arr, lge_grid = _on_cine_grid(lge, cine, order=1)
    labels_arr, labels_grid = _on_cine_grid(labels, cine, order=0)
    if labels is not None and labels_arr is not None:
        labels_arr = _check_labels(labels, labels_arr)
    trigger_times = cine.meta.get("trigger_times_ms")
    rr = rr_interval_ms or cine.meta.get("rr_interval_ms")
    method = LocalisationMethod(options.localisation)
    spacing_rc = (float(cine.spacing[1]), float(cine.spacing[0]))
    if geometry is not None and len(geometry) != n_slices:
        raise ValueError(f"geometry has {len(geometry)} records for {n_slices} slices")
    native: list[LocalisationRecord] | None = None
    slice_options = [options] * n_slices
    if geometry is not None:
        slice_options = [replace(options, target_spacing_mm=None if g.inplane is None else
                                 float(g.inplane.spacing_mm[0])) for g in geometry]
    elif method is LocalisationMethod.DETECTOR or options.fov_heart_ratio is not None:
        native = _native_localisation(cine, labels_arr, method, locator, spacing_rc, ed_phase)
        if options.fov_heart_ratio is not None:
            spacing = _fov_spacing(native, options, spacing_rc[0])
            slice_options = [replace(options, target_spacing_mm=spacing)] * n_slices
    resampled = []
    for k in range(n_slices):
        try:
            resampled.append(resample_slice(
                cine.array[:, :, k, :].T, None if lge_arr is None else lge_arr[:, :, k].T,
                None if labels_arr is None else labels_arr[:, :, k].T, spacing_rc, slice_options[k],
                trigger_times_ms=trigger_times, rr_interval_ms=rr, ed_phase=ed_phase))
        except ValueError as exc:  # inconsistent trigger times or ED phase
            raise InputError(cine.source, f"slice {k}: {exc}") from None
    if geometry is not None:
        centres = [g.localisation for g in geometry]
    elif method is LocalisationMethod.DETECTOR:
        assert native is not None
        centres = [_on_resampled_grid(rec, item) for rec, item in zip(native, resampled)]
    else:
        centres = None
    if options.register_lge and lge_arr is not None:
        # The registration window is centred as the options' own localisation would centre it (a replayed
        # geometry only fixes which pixels are compared afterwards).
        _register(resampled, options, None if labels is None else labels.source,
                  centres if geometry is None else None)
    if centres is None:
        centres = locate_centres(resampled, method, source=None if labels is None else labels.source)
    out = []
    for k, (item, centre) in enumerate(zip(resampled, centres)):
        given = None if angles is None else angles[k]
        angle = None if given is None else float(given)
        if angle is not None and item.registration is not None and item.labels_moved:
            angle = float(np.mod(angle + item.registration.rotation_deg, 360.0))
        record = SliceRecord(subject_id=subject_id, slice_index=k, n_slices=n_slices,
                             sources={name: None if vol is None or vol.source is None else str(vol.source)
                                      for name, vol in (("cine", cine), ("lge", lge), ("labels", labels))},
                             original_shape_rc=(cine.array.shape[1], cine.array.shape[0]),
                             original_spacing_mm=cine.spacing,
                             original_affine=np.asarray(cine.affine).tolist(), temporal=item.temporal,
                             inplane=item.inplane, lge_grid=lge_grid, labels_grid=labels_grid,
                             localisation=centre, registration=item.registration,
                             crop=(crop_box(centre.centre_rc, item.cine.shape[-2:], options.crop_size)
                                   if geometry is None else _recorded_crop(geometry[k], item, cine)))
        out.append(_crop_and_scale(item, record, options, cine, lge, k, levels, angle))
    return out


def _check_cine(cine: ImageVolume) -> int:
    arr = cine.array
    if arr.ndim != 4:
        raise InputError(cine.source, f"cine must be (x, y, slice, time), got shape {arr.shape}")
    if arr.shape[3] < 2:
        raise InputError(cine.source, f"cine has {arr.shape[3]} phase; at least 2 are needed to see motion")
    if arr.size == 0:
        raise InputError(cine.source, f"empty cine (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise InputError(cine.source, "cine contains NaN or infinite values")
    _check_geometry(cine)
    return arr.shape[2]


def _check_geometry(volume: ImageVolume) -> None:
    """Voxel sizes and the affine drive every step in mm: refuse values no scanner writes."""
    if not all(np.isfinite(s) and s > 0 for s in volume.spacing):
        raise InputError(volume.source, f"invalid voxel size {tuple(volume.spacing)} mm (must be positive "
                                        "numbers); fix the header's voxel size (pixdim / PixelSpacing)")
    if not np.all(np.isfinite(np.asarray(volume.affine, dtype=np.float64))):
        raise InputError(volume.source, "the affine (voxel-to-world matrix) holds NaN or infinite values")


def _on_cine_grid(volume: ImageVolume | None, cine: ImageVolume, *, order: int):  # noqa: ANN202
    if volume is None:
        return None, None
    if volume.array.ndim != 3:
        raise InputError(volume.source, f"expected (x, y, slice), got shape {volume.array.shape}")
    if order > 0 and not np.all(np.isfinite(volume.array)):
        raise InputError(volume.source, "contains NaN or infinite values")
    if volume.array.size == 0:
        raise InputError(volume.source, f"empty volume (shape {volume.array.shape})")
    _check_geometry(volume)
    return on_reference_grid(volume, cine, order=order)


def _check_labels(labels: ImageVolume, arr: np.ndarray) -> np.ndarray:
    if arr.size and (not np.all(arr == np.round(arr)) or arr.min() < 0 or arr.max() > 3):
        raise InputError(labels.source, f"label values must be integers 0..3, found {float(arr.min()):g}.."
                                        f"{float(arr.max()):g} (EMIDEC maps: convert with "
                                        "pscgan.labels.from_emidec)")
    return arr.astype(np.uint8, copy=False)


def _register(resampled: list[ResampledSlice], options: PreprocessOptions, labels_source: Path | None,
              centres: list[LocalisationRecord] | None = None) -> None:
    """Register each slice's LGE to its cine ED frame around a provisional LV centre; move the labels too."""
    provisional = centres or locate_centres(resampled, LocalisationMethod(options.localisation),
                                            source=labels_source)
    for item, centre in zip(resampled, provisional):
        if item.lge is None:
            continue
        rec = register_rigid(item.lge, item.cine[0], centre.centre_rc, item.spacing_rc,
                             max_shift_mm=options.max_registration_shift_mm,
                             max_angle_deg=options.max_registration_angle_deg)
        item.registration = rec
        item.lge = apply_rigid(item.lge, rec, order=1)
        if item.labels is not None and options.labels_follow_lge and rec.applied:
            item.labels = apply_rigid(item.labels, rec, order=0, fill=0)
            item.labels_moved = True


def _native_localisation(cine: ImageVolume, labels: np.ndarray | None, method: LocalisationMethod,
                         locator: Locator | None, spacing_rc: tuple[float, float],
                         ed_phase: int) -> list[LocalisationRecord]:
    """LV centre and size of every slice on the cine's own grid (for the detector and the FOV rule)."""
    n_slices = cine.array.shape[2]
    if method is LocalisationMethod.DETECTOR:
        if locator is None:
            raise ConfigError(None, "localisation='detector' needs the LV detector (pscgan.anatomy); "
                                    "use 'cine' to locate the LV from the motion alone")
        records = locator(np.transpose(cine.array, (3, 2, 1, 0)), spacing_rc, ed_phase)
        if len(records) != n_slices:
            raise ValueError(f"the LV detector gave {len(records)} records for {n_slices} slices")
        return records
    none = LocalisationRecord(method="centre", centre_rc=(0.0, 0.0))
    if labels is None or method not in (LocalisationMethod.LABELS, LocalisationMethod.AUTO):
        return [none] * n_slices
    return [centre_from_labels(labels[:, :, k].T, spacing_rc) or none for k in range(n_slices)]


def _fov_spacing(records: list[LocalisationRecord], options: PreprocessOptions,
                 native_spacing_mm: float) -> float | None:
    """The FOV rule's in-plane spacing from the slices' LV sizes (confident ones), or
    ``target_spacing_mm`` (no sizes, or a native field of view within a ``(low, high)`` rule)."""
    sizes = [r.size_mm for r in records
             if r.size_mm is not None and (r.confidence is None or r.confidence >= 0.5)]
    if not sizes or options.fov_heart_ratio is None:
        return options.target_spacing_mm
    diameter = max(sizes)
    if isinstance(options.fov_heart_ratio, (tuple, list)):
        low, high = options.fov_heart_ratio
        current = options.crop_size * (options.target_spacing_mm or native_spacing_mm) / diameter
        if low <= current <= high:
            return options.target_spacing_mm
        ratio = float(np.clip(current, low, high))
    else:
        ratio = float(options.fov_heart_ratio)
    return float(np.clip(ratio * diameter / options.crop_size, *FOV_SPACING_BOUNDS_MM))


def _on_resampled_grid(record: LocalisationRecord, item: ResampledSlice) -> LocalisationRecord:
    """A native-grid record moved onto the slice's resampled grid (pixel edges aligned, as resampled)."""
    if item.inplane is None:
        return record
    (n0, n1), (m0, m1) = item.inplane.original_shape, item.inplane.shape
    r, c = record.centre_rc
    return record.model_copy(update={"centre_rc": ((r + 0.5) * m0 / n0 - 0.5, (c + 0.5) * m1 / n1 - 0.5)})


def _recorded_crop(record: SliceRecord, item: ResampledSlice, cine: ImageVolume):  # noqa: ANN202
    if tuple(record.crop.grid_shape) != tuple(item.cine.shape[-2:]):
        raise InputError(cine.source, f"slice {record.slice_index}: the recorded crop is on a "
                                      f"{tuple(record.crop.grid_shape)} grid, this cine gives "
                                      f"{tuple(item.cine.shape[-2:])}: not the cine the records describe")
    return record.crop


def _crop_and_scale(item: ResampledSlice, record: SliceRecord, options: PreprocessOptions, cine: ImageVolume,
                    lge: ImageVolume | None, k: int, levels: Sequence[str | None] | None,
                    angle: float | None) -> PreparedSlice:
    box = record.crop
    valid = crop_array(np.ones(box.grid_shape, bool), box, False)
    intensity: dict[str, IntensityRecord] = {}
    cine_crop = crop_array(item.cine, box, float(item.cine.min()))
    try:
        cine_out, intensity["cine"] = scale_intensity(cine_crop, options.intensity_percentiles,
                                                      mask=np.broadcast_to(valid, cine_crop.shape))
    except ConstantImageError as exc:
        raise InputError(cine.source, f"slice {k}: {exc}") from None
    lge_out = None
    if item.lge is not None:
        lge_crop = crop_array(item.lge, box, float(item.lge.min()))
        try:
            lge_out, intensity["lge"] = scale_intensity(lge_crop, options.intensity_percentiles, mask=valid)
        except ConstantImageError as exc:
            raise InputError(lge.source if lge is not None else None, f"slice {k}: {exc}") from None
    labels_out = None if item.labels is None else crop_array(item.labels, box, 0).astype(np.uint8)
    record.intensity = intensity
    spacing = record.inplane.spacing_mm if record.inplane is not None else item.spacing_rc
    return PreparedSlice(subject_id=record.subject_id, slice_index=k,
                         level=None if levels is None else levels[k], cine=cine_out, lge=lge_out,
                         labels=labels_out,
                         spacing_mm=(float(spacing[0]), float(spacing[1])), rv_insertion_angle_deg=angle,
                         record=record)
