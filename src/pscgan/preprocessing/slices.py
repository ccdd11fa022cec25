"""Per-slice resampling and subject-level LV localisation, the first half of :mod:`.pipeline`.

A :class:`ResampledSlice` holds one slice after temporal and in-plane resampling, in display orientation:
cine ``(time, rows, cols)``, LGE and labels ``(rows, cols)``. :func:`locate_centres` picks each slice's LV
centre; slices where the chosen method finds nothing fall back on the subject-level centre (the mean of
the other slices' label centroids, or the motion of the whole stack), then on the image centre.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pscgan.errors import ConfigError, InputError
from pscgan.preprocessing.localisation import (
    LocalisationMethod,
    centre_from_labels,
    image_centre,
    locate_in_motion_map,
    motion_map,
)
from pscgan.preprocessing.record import InPlaneRecord, LocalisationRecord, RegistrationRecord, TemporalRecord
from pscgan.preprocessing.spatial import apply_inplane, resample_inplane
from pscgan.preprocessing.temporal import resample_phases

if TYPE_CHECKING:
    from pscgan.preprocessing.pipeline import PreprocessOptions


@dataclass
class ResampledSlice:
    """One slice after temporal and in-plane resampling (display orientation)."""

    cine: np.ndarray
    lge: np.ndarray | None
    labels: np.ndarray | None
    spacing_rc: tuple[float, float]
    temporal: TemporalRecord
    inplane: InPlaneRecord | None
    registration: RegistrationRecord | None = None
    labels_moved: bool = False


def resample_slice(frames: np.ndarray, lge: np.ndarray | None, labels: np.ndarray | None,
                   spacing_rc: tuple[float, float], options: PreprocessOptions, *,
                   trigger_times_ms: Sequence[float] | None = None, rr_interval_ms: float | None = None,
                   ed_phase: int = 0) -> ResampledSlice:
    """Temporal then in-plane resampling of one slice (no copies when nothing needs doing)."""
    frames, temporal = resample_phases(frames, options.n_phases, trigger_times_ms=trigger_times_ms,
                                       rr_interval_ms=rr_interval_ms, ed_phase=ed_phase,
                                       method=options.temporal_method)
    frames, inplane = resample_inplane(frames, spacing_rc, options.target_spacing_mm, order=1)
    if lge is not None:
        lge = apply_inplane(lge.astype(np.float32, copy=False), inplane, order=1)
    if labels is not None:
        labels = apply_inplane(labels, inplane, order=0)
    row, col = inplane.spacing_mm if inplane is not None else spacing_rc
    return ResampledSlice(cine=frames, lge=lge, labels=labels, spacing_rc=(float(row), float(col)),
                          temporal=temporal, inplane=inplane)


def locate_centres(slices: list[ResampledSlice], method: LocalisationMethod,
                   source: Path | None = None) -> list[LocalisationRecord]:
    """LV centre of every slice by ``method`` (see the module docstring for the fallbacks).

    Raises:
        ConfigError: ``"labels"`` requested without labels.
        InputError: ``"labels"`` requested and no slice of ``source`` holds LV labels.
    """
    shape = slices[0].cine.shape[-2:]
    if method is LocalisationMethod.CENTRE:
        return [image_centre(shape) for _ in slices]
    has_labels = all(s.labels is not None for s in slices)
    if method is LocalisationMethod.LABELS and not has_labels:
        raise ConfigError(None, "localisation='labels' needs a label map; use 'cine' or 'auto'")
    found: list[LocalisationRecord | None] = [None] * len(slices)
    if method in (LocalisationMethod.LABELS, LocalisationMethod.AUTO) and has_labels:
        found = [centre_from_labels(s.labels) for s in slices if s.labels is not None]  # (all have labels)
    labelled = [f.centre_rc for f in found if f is not None]
    if method is LocalisationMethod.LABELS:
        if not labelled:
            raise InputError(source, "no slice holds LV labels (values 1-3), so the LV cannot be localised "
                                     "from labels; use localisation='cine' or 'auto'")
        prior = LocalisationRecord(method="labels-stack", centre_rc=tuple(np.mean(labelled, axis=0)))
        return [f if f is not None else prior for f in found]
    complete = [f for f in found if f is not None]
    if len(complete) == len(found):
        return complete
    spacing = slices[0].spacing_rc
    maps = [motion_map(s.cine, spacing) for s in slices]
    if labelled:
        prior = LocalisationRecord(method="labels-stack", centre_rc=tuple(np.mean(labelled, axis=0)))
    else:
        stack = locate_in_motion_map(np.mean(maps, axis=0), spacing)
        prior = (LocalisationRecord(method="cine-stack", centre_rc=stack.centre_rc, score=stack.score)
                 if stack is not None else image_centre(shape))
    out = []
    for f, m in zip(found, maps):
        if f is None:
            f = locate_in_motion_map(m, spacing, prior_rc=prior.centre_rc) or prior
        out.append(f)
    return out
