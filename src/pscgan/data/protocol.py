"""The preprocessing options a model is trained, cached, scored and run with: its plan and the LGE
registration protocol.

A model's configuration plans its preprocessing (:func:`planned_options`: phases, crop, intensity,
temporal resampling, spacing, field-of-view rule, registration bounds); the dataset adds where its labels
were drawn.

The paper registers the LGE to the cine end-diastolic frame before training and scoring (section 6.1).
Training (the PSCGAN trainer and the baselines), the training cache, ``pscgan data cache`` and the
reference of ``pscgan evaluate`` all build their :class:`~pscgan.preprocessing.pipeline.PreprocessOptions`
here, so that one switch (``train.register_lge`` of the configuration) decides for all of them and the
labels move with the LGE exactly when the dataset says they were drawn on it
(:func:`pscgan.data.layout.labels_geometry_of`).

Example:
    >>> import tempfile
    >>> from pscgan.data.layout import DatasetManifest, LabelGeometry, write_manifest
    >>> root = tempfile.mkdtemp()
    >>> write_manifest(root, DatasetManifest(name="d", subjects=[], labels_geometry=LabelGeometry.CINE))
    >>> o = preprocess_options(root, register_lge=True, n_phases=25, crop_size=64)
    >>> o.register_lge, o.labels_follow_lge
    (True, False)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pscgan.data.layout import LabelGeometry, dataset_labels_geometry
from pscgan.preprocessing.pipeline import PreprocessOptions

if TYPE_CHECKING:
    from pscgan.config.schema import PreprocessingConfig, PscganConfig


def registration_options(labels_geometry: LabelGeometry, register_lge: bool) -> dict[str, Any]:
    """The registration fields of :class:`PreprocessOptions` for a dataset's label geometry.

    Without registration ``labels_follow_lge`` has no effect and keeps its default, so that the options
    (and the training-cache key made from them) of unregistered preparation do not depend on the dataset.
    """
    if not register_lge:
        return {"register_lge": False, "labels_follow_lge": PreprocessOptions.labels_follow_lge}
    return {"register_lge": True, "labels_follow_lge": LabelGeometry(labels_geometry) is LabelGeometry.LGE}


def planned_options(config: PscganConfig) -> dict[str, Any]:
    """The :class:`PreprocessOptions` fields a model's configuration plans: phases (``model.frames``), crop
    (``model.image_size``) and its ``preprocessing`` section. Training, its cache and prediction all
    start from these, so a model is always fed as it was trained.

    Example:
        >>> from pscgan.config.presets import get_preset
        >>> o = PreprocessOptions(**planned_options(get_preset("tiny")))
        >>> o.n_phases, o.crop_size, o.intensity_percentiles, o.temporal_method.value
        (4, 16, (0.5, 99.5), 'linear')
    """
    return plan_options(config.model.frames, config.model.image_size, config.preprocessing)


def plan_options(frames: int, crop: int, plan: PreprocessingConfig) -> dict[str, Any]:
    """The :class:`PreprocessOptions` fields of a network input of ``frames`` phases and ``crop`` pixels
    prepared by ``plan`` (a configuration's ``preprocessing`` section; the baselines keep one too)."""
    return {"n_phases": frames, "crop_size": crop, "target_spacing_mm": plan.target_spacing_mm,
            "intensity_percentiles": tuple(plan.intensity_percentiles),
            "temporal_method": plan.temporal_method.value, "fov_heart_ratio": plan.fov_heart_ratio,
            "max_registration_shift_mm": plan.max_registration_shift_mm,
            "max_registration_angle_deg": plan.max_registration_angle_deg}


def preprocess_options(dataset: str | Path, *, register_lge: bool, **options: Any) -> PreprocessOptions:
    """:class:`PreprocessOptions` for ``dataset`` (canonical layout): ``options`` plus the registration
    protocol (``register_lge``, and ``labels_follow_lge`` from the dataset's label geometry).

    Raises:
        InputError: the dataset's ``dataset.json`` or ``subject.json`` files cannot be read.
    """
    geometry = dataset_labels_geometry(dataset) if register_lge else LabelGeometry.LGE
    return PreprocessOptions(**options, **registration_options(geometry, register_lge))
