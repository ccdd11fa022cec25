"""Which outputs a prediction defines: the synthetic LGE, and which classes its segmentation tells apart.

A PSCGAN prediction defines everything. A baseline may define only part of it: a scar-only segmenter
tells scar from "not scar" (it knows no blood pool or healthy myocardium), a pix2pix synthesiser gives
no segmentation at all. Such a prediction writes ``SUBJECT/parts.json``; a subject folder without it
defines every part. Evaluation reads the declaration and reports what a method cannot produce as
*not defined* (``None`` in JSON, ``n/d`` in tables) -- never as 0, and never averaged.

Example:
    >>> scar_only = DefinedParts(producer="scar_unet3d", synthetic_lge=False, segmentation_classes=(3,))
    >>> scar_only.segmentation, scar_only.class_defined(3), scar_only.tissue_complete
    (True, True, False)
    >>> DefinedParts().intersection(scar_only).segmentation_classes
    (3,)
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from pscgan.data.predictions import NETWORK_FILE, RECORDS_FILE, subject_done, subject_folder
from pscgan.errors import InputError
from pscgan.io.atomic import safe_child, write_json_atomic
from pscgan.labels import NUM_CLASSES, Tissue

PARTS_FILE = "parts.json"
TISSUE = (int(Tissue.BLOOD_POOL), int(Tissue.MYOCARDIUM), int(Tissue.SCAR))


class DefinedParts(BaseModel):
    """The outputs a prediction defines.

    Attributes:
        producer: what made the prediction (``pscgan`` or a baseline kind), for the record.
        synthetic_lge: whether a synthetic LGE image is part of the prediction.
        segmentation_classes: the label values the segmentation defines (empty: no segmentation).
            Pixels of an undefined class carry 0, which then means "none of the defined classes".
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    producer: str = "pscgan"
    synthetic_lge: bool = True
    segmentation_classes: tuple[int, ...] = tuple(range(NUM_CLASSES))

    @field_validator("segmentation_classes")
    @classmethod
    def _known_classes(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        bad = [c for c in value if not 0 <= c < NUM_CLASSES]
        if bad:
            raise ValueError(f"unknown label values {bad} (classes are 0..{NUM_CLASSES - 1})")
        return tuple(sorted(set(value)))

    @property
    def segmentation(self) -> bool:
        """Whether there is a segmentation at all."""
        return bool(self.segmentation_classes)

    def class_defined(self, label: int) -> bool:
        return int(label) in self.segmentation_classes

    @property
    def tissue_complete(self) -> bool:
        """Blood pool, myocardium and scar all defined: what overall metrics, the scar ratio and the AHA
        segments (which need the myocardium) require."""
        return all(c in self.segmentation_classes for c in TISSUE)

    @property
    def scar(self) -> bool:
        return self.class_defined(Tissue.SCAR)

    def intersection(self, other: DefinedParts) -> DefinedParts:
        """What both define (a cohort metric is defined only where every subject defines it)."""
        producer = "+".join(sorted(set(self.producer.split("+")) | set(other.producer.split("+"))))
        return DefinedParts(producer=producer, synthetic_lge=self.synthetic_lge and other.synthetic_lge,
                            segmentation_classes=tuple(set(self.segmentation_classes)
                                                       & set(other.segmentation_classes)))


def read_parts(folder: Path) -> DefinedParts:
    """The parts a subject's prediction folder defines (everything when it has no ``parts.json``)."""
    path = Path(folder) / PARTS_FILE
    if not path.is_file():
        return DefinedParts()
    from pscgan.io.jsonfile import validation_problem
    from pscgan.io.jsonfile import read_json

    declared = read_json(path, expect=dict, what="declaration of the predicted parts")
    try:
        return DefinedParts.model_validate(declared)
    except ValidationError as exc:
        problem = validation_problem(exc)
        raise InputError(path, f"not a valid declaration of the predicted parts: {problem}") from None


def write_parts(folder: Path, parts: DefinedParts) -> None:
    write_json_atomic(Path(folder) / PARTS_FILE, parts.model_dump(mode="json"))


def partial_prediction_done(pred_dir: Path, name: str) -> bool:
    """Whether ``pred_dir/name`` is a complete prediction that declares its parts (written atomically,
    so the declaration and the network-grid arrays are there only once the subject is complete)."""
    folder = safe_child(pred_dir, name)
    return all((folder / f).is_file() for f in (PARTS_FILE, NETWORK_FILE, RECORDS_FILE))


def prediction_done(pred_dir: Path, name: str) -> bool:
    """Whether ``pred_dir/name`` is a finished prediction: ``pscgan predict``'s, or a baseline's that
    declares its parts (never for a name no subject may have, or a folder leading outside ``pred_dir``)."""
    try:
        subject_folder(pred_dir, name)
    except InputError:
        return False
    return subject_done(pred_dir, name) or partial_prediction_done(pred_dir, name)
