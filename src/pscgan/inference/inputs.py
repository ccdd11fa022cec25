"""What ``pscgan predict`` can read: a dataset folder, a subject folder, a NIfTI or NPZ cine, or a
DICOM cine series; each becomes one or more :class:`PredictInput`.

Example:
    >>> # [i.name for i in discover_inputs(Path("phantom"))]  -> ['phantom_0000', 'phantom_0001', ...]
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pscgan.data.layout import CINE_FILE, LABELS_FILE, MANIFEST_FILE, SUBJECT_FILE, SubjectInfo
from pscgan.data.predictions import check_output_name
from pscgan.errors import InputError
from pscgan.io.image import ImageVolume


class InputKind(str, Enum):
    SUBJECT = "subject"  # a canonical-layout subject folder
    NIFTI = "nifti"
    NPZ = "npz"
    DICOM = "dicom"


#: the input kind of each format :func:`pscgan.io.reader.input_format` names
_KIND_OF_FORMAT = {"nifti": InputKind.NIFTI, "npz": InputKind.NPZ, "dicom": InputKind.DICOM}


@dataclass(frozen=True)
class PredictInput:
    """One subject to predict: a name for its output folder, what it is, and where it is."""

    name: str
    kind: InputKind
    path: Path


@dataclass
class LoadedInput:
    """A predict input read into memory (labels only when a reference exists)."""

    source: PredictInput
    cine: ImageVolume
    info: SubjectInfo | None
    labels: ImageVolume | None


def _stem(path: Path) -> str:
    name = _folder_name(path)
    for ext in (".nii.gz", ".nii", ".npz"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def _folder_name(path: Path) -> str:
    # `pscgan predict .` names the subject after the current folder, not "."
    return path.name if path.name not in ("", ".", "..") else path.resolve().name


def _item(path: Path, kind: InputKind) -> PredictInput:
    name = _stem(path) if kind in (InputKind.NIFTI, InputKind.NPZ) else _folder_name(path)
    return PredictInput(check_output_name(name, path), kind, path)


def discover_inputs(path: str | Path, *, split: str | None = None) -> list[PredictInput]:
    """The subjects found at ``path`` (a dataset gives one per subject).

    Args:
        path: dataset folder, subject folder, NIfTI/NPZ file, DICOM series folder, or a folder of NIfTI/NPZ
            cines or of DICOM series folders (one subject each).
        split: for a dataset with a ``dataset.json`` split, only the subjects of this part (e.g. ``test``).

    Raises:
        InputError: ``path`` is missing or holds nothing pscgan can read.
    """
    from pscgan.data.layout import list_subject_folders
    from pscgan.io.reader import input_format

    path = Path(path)
    if not path.exists():
        raise InputError(path, "input not found")
    if path.is_dir() and (path / SUBJECT_FILE).is_file():
        return [_item(path, InputKind.SUBJECT)]
    if path.is_dir() and ((path / MANIFEST_FILE).is_file()
                          or any((p / SUBJECT_FILE).is_file() for p in path.iterdir() if p.is_dir())):
        try:
            folders = list_subject_folders(path)
        except ValueError as exc:  # a manifest naming a subject outside the dataset
            raise InputError(path / MANIFEST_FILE, str(exc)) from None
        if split is not None:
            from pscgan.data.layout import read_manifest

            if not (path / MANIFEST_FILE).is_file():
                raise InputError(path, f"--split {split} needs a {MANIFEST_FILE} with a split")
            parts = read_manifest(path).split
            if split not in parts:
                raise InputError(
                    path / MANIFEST_FILE, f"has no split part {split!r} (parts: {sorted(parts)})"
                )
            wanted = set(parts[split])
            folders = [f for f in folders if f.name in wanted]
        return [_item(f, InputKind.SUBJECT) for f in folders]
    if split is not None:
        raise InputError(path, "--split applies to dataset folders only")
    if path.is_dir():
        batch = _folder_batch(path)
        if batch is not None:
            return batch
    kind = _KIND_OF_FORMAT.get(input_format(path))
    if kind is None:
        raise InputError(path, "not a dataset, subject folder, NIfTI/NPZ cine or DICOM series")
    return [_item(path, kind)]


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _folder_batch(folder: Path) -> list[PredictInput] | None:
    """The inputs of a folder that collects several subjects, or ``None`` for a DICOM series folder.

    A folder whose own files are all NIfTI/NPZ cines, or that holds no files but subfolders (one DICOM
    series each, as a PACS export is often laid out), is a batch: each cine file and
    each subfolder holding files is one subject. A folder with any other file is one DICOM series.
    """
    from pscgan.io.reader import format_by_name

    entries = _visible(folder)
    files = {p: format_by_name(p) for p in entries if p.is_file()}
    if None in files.values():
        return None
    series = [p for p in entries if p.is_dir() and any(q.is_file() for q in _visible(p))]
    items = [_item(p, _KIND_OF_FORMAT[fmt]) for p, fmt in files.items() if fmt is not None]
    items += [_item(p, InputKind.DICOM) for p in series]
    if not items:
        raise InputError(folder, "holds no cine: expected a dataset, a subject folder, a DICOM series, or a "
                                 "folder of NIfTI/NPZ cines or of DICOM series folders")
    return items


def load_input(item: PredictInput) -> LoadedInput:
    """Read the cine (and subject metadata and reference labels when the input has them)."""
    from pscgan.data.layout import read_subject_info
    from pscgan.io.nifti import read_nifti
    from pscgan.io.reader import read_image

    if item.kind is InputKind.SUBJECT:
        info = read_subject_info(item.path)
        cine = read_nifti(item.path / CINE_FILE, ndim=4)
        labels_path = item.path / LABELS_FILE
        labels = read_image(labels_path, kind="labels") if labels_path.is_file() else None
        if cine.array.shape[3] != info.n_phases:
            raise InputError(item.path / CINE_FILE, f"has {cine.array.shape[3]} phases but {SUBJECT_FILE} "
                                                    f"says {info.n_phases}")
        return LoadedInput(item, cine, info, labels)
    return LoadedInput(item, read_image(item.path, kind="cine"), None, None)
