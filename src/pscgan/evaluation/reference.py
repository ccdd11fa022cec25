"""How the reference LGE and labels are prepared: with the LGE registration protocol of the model.

The paper registers the LGE to the cine end-diastolic frame before training and scoring (section 6.1).
A model trained on registered targets must be scored against a registered reference, one trained on
unregistered targets (the bundled model, trained before the protocol existed) can be scored either
way. :func:`reference_protocol` decides, in this order:

1. an explicit choice (``pscgan evaluate --register-lge/--no-register-lge``);
2. what the prediction folder records: ``batch.json`` (``pscgan predict``) or ``summary.json`` (also
   the baselines) hold the weights' ``register_lge``;
3. otherwise the paper's protocol: register.

The rest of the reference's preparation (intensity percentiles, temporal resampling, registration
bounds) is the plan the predictions were prepared with, as the prediction folder records it
(:func:`pscgan.data.predictions.read_prediction_record`); its crops and spacing are the prediction's own.

The labels move with the LGE only when the reference dataset's labels were drawn on it
(:func:`pscgan.data.layout.labels_geometry_of`). Registration failures never stop an evaluation: such a
slice keeps its unregistered LGE, and its record says why
(:class:`~pscgan.preprocessing.record.RegistrationOutcome`); :func:`registration_rows` lists every
slice's result for ``evaluation.json``.

Example:
    >>> p = ReferenceProtocol(register_lge=True, source=RegistrationSource.DEFAULT, recorded=None,
    ...                       labels_geometry=LabelGeometry.CINE, plan={"intensity_percentiles": [1, 99]})
    >>> o = p.options(frames=25, crop=64)
    >>> o.register_lge, o.labels_follow_lge, o.localisation.value, o.intensity_percentiles
    (True, False, 'cine', (1, 99))
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pscgan.data.layout import LabelGeometry, dataset_labels_geometry
from pscgan.data.predictions import read_prediction_record
from pscgan.migrations import PREDICTION_RECORD, migrate

if TYPE_CHECKING:
    from pscgan.evaluation.pairing import PairedSubject
    from pscgan.preprocessing.pipeline import PreprocessOptions


class RegistrationSource(str, Enum):
    """Where the decision to register the reference came from."""

    OPTION = "option"            # asked for explicitly
    PREDICTIONS = "predictions"  # recorded with the weights that made the predictions
    DEFAULT = "default"          # neither: the paper's protocol


@dataclass(frozen=True)
class ReferenceProtocol:
    """How a reference dataset is prepared for scoring.

    Attributes:
        register_lge: register the reference LGE to the cine end-diastolic frame.
        source: where that decision came from.
        recorded: what the prediction folder records (None: nothing).
        labels_geometry: where the reference dataset's labels were drawn.
        plan: the recorded preprocessing of the predictions (:data:`PLANNED`, as far as recorded).
    """

    register_lge: bool
    source: RegistrationSource
    recorded: bool | None
    labels_geometry: LabelGeometry
    plan: dict[str, Any] = field(default_factory=dict)

    def options(self, *, frames: int, crop: int) -> PreprocessOptions:
        """Preprocessing of the reference: the predictions' plan (crop located from the cine, then
        replaced by the prediction's own crops) plus the registration protocol."""
        from pscgan.data.protocol import registration_options
        from pscgan.preprocessing.pipeline import PreprocessOptions

        plan: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in self.plan.items()
                                if k in PLANNED}
        return PreprocessOptions(n_phases=frames, crop_size=crop, localisation="cine", **plan,
                                 **registration_options(self.labels_geometry, self.register_lge))

    def as_dict(self) -> dict[str, Any]:
        return {"register_lge": self.register_lge, "source": self.source.value,
                "recorded_by_predictions": self.recorded, "labels_geometry": self.labels_geometry.value,
                "labels_follow_lge": self.register_lge and self.labels_geometry is LabelGeometry.LGE}


#: The fields of a prediction's recorded preprocessing the reference is prepared with (its crops and
#: spacing are replayed from the prediction's records instead).
PLANNED = ("intensity_percentiles", "temporal_method", "max_registration_shift_mm",
           "max_registration_angle_deg")


def recorded_prediction(pred_dir: str | Path) -> tuple[bool | None, dict[str, Any]]:
    """The ``register_lge`` a prediction folder records for its weights (None when it records none) and
    the preprocessing its predictions were prepared with (:data:`PLANNED`), in today's version of the
    record; a folder without a record reads as the oldest one."""
    found = read_prediction_record(Path(pred_dir), unreadable="cannot tell how the predictions' weights were "
                                   "trained; pass --register-lge or --no-register-lge")
    record = found[1] if found is not None else migrate(PREDICTION_RECORD, {"weights": {}})[0]
    value = record["weights"].get("register_lge")
    plan = record["preprocessing"]
    return (value if isinstance(value, bool) else None), {k: plan[k] for k in PLANNED if k in plan}


def reference_protocol(pred_dir: str | Path, ref_dir: str | Path,
                       register_lge: bool | None = None) -> ReferenceProtocol:
    """The reference preparation for scoring ``pred_dir`` against ``ref_dir``.

    Args:
        pred_dir: prediction folder (``pscgan predict`` or a baseline's).
        ref_dir: reference dataset (canonical layout).
        register_lge: an explicit choice; None takes what the predictions record, else registers.
    """
    recorded, plan = recorded_prediction(pred_dir)
    if register_lge is not None:
        register, source = bool(register_lge), RegistrationSource.OPTION
    elif recorded is not None:
        register, source = recorded, RegistrationSource.PREDICTIONS
    else:
        register, source = True, RegistrationSource.DEFAULT
    return ReferenceProtocol(register_lge=register, source=source, recorded=recorded,
                             labels_geometry=dataset_labels_geometry(ref_dir), plan=plan)


def registration_rows(pairs: Sequence[PairedSubject]) -> list[dict[str, Any]]:
    """One row per registered reference slice: outcome, rotation, shift and similarity before/after."""
    import numpy as np

    rows = []
    for pair in pairs:
        for k, rec in enumerate(pair.registration):
            if rec is None:
                continue
            rows.append({"subject": pair.subject_id, "slice": k, "applied": rec.applied,
                         "outcome": None if rec.outcome is None else rec.outcome.value,
                         "rotation_deg": rec.rotation_deg, "shift_row_mm": rec.shift_mm[0],
                         "shift_col_mm": rec.shift_mm[1], "shift_mm": float(np.hypot(*rec.shift_mm)),
                         "nmi_before": rec.metric_before, "nmi_after": rec.metric_after})
    return rows


def registration_summary(protocol: ReferenceProtocol, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The protocol, the count of each outcome and the slices' results, for ``evaluation.json``."""
    return {**protocol.as_dict(), "n_slices_registered": len(rows),
            "outcomes": dict(sorted(Counter(str(r["outcome"]) for r in rows).items())),
            "per_slice": list(rows)}
