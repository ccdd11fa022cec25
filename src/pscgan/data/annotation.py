"""What a dataset annotates: which tissue classes its label maps tell apart, and which subjects have an LGE.

Public cine datasets (Sunnybrook, ACDC) and a lab's anatomy-only contours label the LV blood pool and
the myocardium but no scar, and come without LGE. Such a dataset is usable for everything that does
not need the missing part; what does is *not defined* (``None`` in JSON, ``n/d`` in tables), never 0.

The classes come from ``dataset.json`` ``annotated`` (:class:`~pscgan.data.layout.Annotated`). A
dataset that does not say (the field is optional: a hand-written ``dataset.json`` may leave it out) is
resolved from its files:

* some subject has an LGE, or some label map holds scar (label 3): everything annotated, as before;
* no LGE and no scar label anywhere: blood pool and myocardium only (``source`` ``"inferred"``). Scar
  is drawn on the LGE, so a dataset without any LGE and without any scar label has no scar annotation;
  a scar-free cohort that was scored for scar says so with ``"annotated"`` in its ``dataset.json``.

Whether the LGE exists is read from the files (``lge.nii.gz`` per subject), never declared.

Example:
    >>> a = DatasetAnnotation(classes=(Annotated.LV_BLOOD_POOL, Annotated.MYOCARDIUM), source="manifest",
    ...                       n_subjects=2, subjects_without_lge=("a", "b"))
    >>> a.scar, a.lge, a.myocardium_label
    (False, False, 'myocardium (healthy + scar, not distinguished)')
    >>> a.missing_for_training()
    ['scar class (label 2 is the whole myocardium)', 'LGE images (2 of 2 subjects have none)']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pscgan.data.layout import (
    LABELS_FILE,
    LGE_FILE,
    MANIFEST_FILE,
    Annotated,
    list_subject_folders,
    read_manifest,
)
from pscgan.errors import ConfigError, InputError
from pscgan.labels import Tissue

ALL_CLASSES = tuple(Annotated)
_LABEL_OF = {Annotated.LV_BLOOD_POOL: Tissue.BLOOD_POOL, Annotated.MYOCARDIUM: Tissue.MYOCARDIUM,
             Annotated.SCAR: Tissue.SCAR}


@dataclass(frozen=True)
class DatasetAnnotation:
    """What a dataset's labels and images hold.

    Attributes:
        classes: the annotated classes, in :class:`Annotated` order.
        source: ``"manifest"`` (``dataset.json`` says), ``"default"`` (everything, as before the field
            existed) or ``"inferred"`` (no LGE and no scar label anywhere).
        n_subjects: subjects in the dataset.
        subjects_without_lge: subjects without ``lge.nii.gz``.
        subjects_without_labels: subjects without ``labels.nii.gz``.
    """

    classes: tuple[Annotated, ...] = ALL_CLASSES
    source: str = "default"
    n_subjects: int = 0
    subjects_without_lge: tuple[str, ...] = ()
    subjects_without_labels: tuple[str, ...] = field(default=())

    @property
    def scar(self) -> bool:
        """Scar is told from healthy myocardium (labels 2 and 3 as in the full encoding)."""
        return Annotated.SCAR in self.classes

    @property
    def lge(self) -> bool:
        """Every subject has an LGE."""
        return not self.subjects_without_lge

    @property
    def any_lge(self) -> bool:
        return len(self.subjects_without_lge) < self.n_subjects

    @property
    def complete(self) -> bool:
        """Everything training needs: all classes, labels and LGE in every subject."""
        return self.classes == ALL_CLASSES and self.lge and not self.subjects_without_labels

    @property
    def myocardium_label(self) -> str:
        """What label 2 means in this dataset."""
        return "healthy myocardium" if self.scar else "myocardium (healthy + scar, not distinguished)"

    def allowed_labels(self) -> set[int]:
        """Label values a label map of this dataset may hold (0 is always allowed)."""
        return {0} | {int(_LABEL_OF[c]) for c in self.classes}

    def missing_for_training(self) -> list[str]:
        """What this dataset lacks for ``pscgan train``, one phrase each (empty when complete)."""
        missing = [f"{c.value} class" for c in (Annotated.LV_BLOOD_POOL, Annotated.MYOCARDIUM)
                   if c not in self.classes]
        if not self.scar:
            missing.append("scar class (label 2 is the whole myocardium)")
        if self.subjects_without_labels:
            missing.append(f"labels ({len(self.subjects_without_labels)} of {self.n_subjects} subjects "
                           "have none)")
        if self.subjects_without_lge:
            missing.append(f"LGE images ({len(self.subjects_without_lge)} of {self.n_subjects} subjects "
                           "have none)")
        return missing

    def describe(self) -> str:
        """One line for ``pscgan data check`` and the reports."""
        how = {"manifest": "dataset.json annotated", "default": "default: everything",
               "inferred": "inferred: no LGE and no scar label in any subject"}[self.source]
        lge = ("every subject" if self.lge else "no subject" if not self.any_lge
               else f"{self.n_subjects - len(self.subjects_without_lge)} of {self.n_subjects} subjects")
        return f"annotated: {', '.join(c.value for c in self.classes)} ({how}); LGE in {lge}"

    def as_dict(self) -> dict[str, Any]:
        return {"annotated": [c.value for c in self.classes], "source": self.source, "scar": self.scar,
                "myocardium_label": self.myocardium_label, "n_subjects": self.n_subjects,
                "subjects_without_lge": list(self.subjects_without_lge),
                "subjects_without_labels": list(self.subjects_without_labels)}


def check_labels(labels: np.ndarray, annotation: DatasetAnnotation, path: str | Path) -> None:
    """Refuse a label map holding a class its dataset does not annotate.

    Raises:
        InputError: naming ``path`` and the values found (e.g. scar labels in a dataset that says it
            annotates no scar).
    """
    extra = sorted(set(np.unique(np.asarray(labels)).tolist()) - annotation.allowed_labels())
    if extra:
        names = ", ".join(Tissue(v).display_name for v in extra if 0 <= v < len(Tissue))
        raise InputError(path, f"holds label values {extra} ({names}) that dataset.json 'annotated' "
                               f"({', '.join(c.value for c in annotation.classes)}) does not list")


def annotation_of(classes: Sequence[Annotated] | None, folders: Sequence[Path]) -> DatasetAnnotation:
    """Resolve the annotation of the subject ``folders`` (see the module docstring).

    Args:
        classes: ``dataset.json`` ``annotated``, or None when it has none.
        folders: the dataset's subject folders.
    """
    no_lge = tuple(f.name for f in folders if not (f / LGE_FILE).is_file())
    no_labels = tuple(f.name for f in folders if not (f / LABELS_FILE).is_file())
    common: dict[str, Any] = {"n_subjects": len(folders), "subjects_without_lge": no_lge,
                              "subjects_without_labels": no_labels}
    if classes is not None:
        return DatasetAnnotation(classes=tuple(sorted(classes, key=ALL_CLASSES.index)), source="manifest",
                                 **common)
    if len(no_lge) < len(folders) or _any_scar_label(folders):
        return DatasetAnnotation(source="default", **common)
    return DatasetAnnotation(classes=(Annotated.LV_BLOOD_POOL, Annotated.MYOCARDIUM), source="inferred",
                             **common)


def _any_scar_label(folders: Sequence[Path]) -> bool:
    from pscgan.io.nifti import read_nifti

    for f in folders:
        if (f / LABELS_FILE).is_file():
            arr = read_nifti(f / LABELS_FILE, ndim=3, dtype=None).array
            if np.any(np.asarray(arr) == int(Tissue.SCAR)):
                return True
    return False


def dataset_annotation(root: str | Path) -> DatasetAnnotation:
    """:func:`annotation_of` a dataset folder (its ``dataset.json`` when it has one).

    Raises:
        InputError: the dataset or its ``dataset.json`` cannot be read.
    """
    root = Path(root)
    folders = list_subject_folders(root)
    classes = read_manifest(root).annotated if (root / MANIFEST_FILE).is_file() else None
    return annotation_of(classes, folders)


def require_training_annotation(root: str | Path) -> DatasetAnnotation:
    """The annotation of a dataset ``pscgan train`` is to use; refused unless complete.

    Raises:
        ConfigError: one line naming the dataset and what it lacks (training on partial labels, e.g.
            anatomy-only contours without LGE, is not supported yet).
    """
    annotation = dataset_annotation(root)
    if not annotation.complete:
        raise ConfigError(Path(root), "cannot train on this dataset yet: it has no "
                          + "; no ".join(annotation.missing_for_training())
                          + " (the cascade needs LGE and scar labels; anatomy-only labels train the "
                          "anatomy network: `pscgan anatomy pack --dataset DIR` then `pscgan anatomy train`, "
                          "see docs/training.md)")
    return annotation
