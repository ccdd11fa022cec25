"""A real scanner DICOM series end to end: reading, geometry, prediction, derived MR and SEG outputs.

The Sunnybrook development subjects (GE 1.5 T; one series holding every slice and all 20 phases; UIDs
with components starting with a zero; a FrameOfReferenceUID per file) live beside the repository in
``../shared/data/sunnybrook-dev``, as DICOM and as NIfTI made from the same files (9 of the slices,
cropped to 192 x 192 from 256 x 256). The tests are skipped where that folder is absent.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pydicom
import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.io.dicom import read_dicom_series
from pscgan.io.image import ImageVolume

REPO = Path(__file__).resolve().parents[2]
SUNNYBROOK = REPO.parent / "shared" / "data" / "sunnybrook-dev"
SUBJECTS = {"SCD0000101": "SCD0000101_SC-HF-I-1", "SCD0000201": "SCD0000201_SC-HF-I-2"}
N_FILES = {"SCD0000101": 240, "SCD0000201": 260}

pytestmark = pytest.mark.skipif(not (SUNNYBROOK / "dicom" / "SCD0000101").is_dir(),
                                reason="real DICOM data not found (../shared/data/sunnybrook-dev beside the "
                                       "repository)")
runner = CliRunner()


def _dicom(subject: str) -> Path:
    return SUNNYBROOK / "dicom" / subject


def _voxel_map(nifti_affine: np.ndarray, affine: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Voxel indices (in ``affine``'s volume) of the NIfTI volume's voxels, checked to be whole numbers:
    ``(i, j, k, 3)`` for the NIfTI voxels ``(i, j, k)``."""
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in shape[:3]], indexing="ij"), axis=-1).reshape(-1, 3)
    world = nifti_affine[:3, :3] @ ijk.T + nifti_affine[:3, 3:4]
    index = np.linalg.solve(affine[:3, :3], world - affine[:3, 3:4]).T
    assert np.max(np.abs(index - np.rint(index))) < 0.01, "the voxel grids do not coincide"
    return np.rint(index).astype(int).reshape(*shape[:3], 3)


@pytest.mark.parametrize("subject", sorted(SUBJECTS))
def test_reading_matches_the_nifti_version(subject: str) -> None:
    cine = read_dicom_series(_dicom(subject), kind="cine")
    nifti = nib.load(str(SUNNYBROOK / SUBJECTS[subject] / "cine.nii.gz"))
    reference = np.asarray(nifti.dataobj, np.float32)
    assert cine.array.shape[:2] == (256, 256) and cine.array.shape[3] == reference.shape[3] == 20
    assert cine.array.shape[2] * 20 == N_FILES[subject]
    np.testing.assert_allclose(cine.spacing, nifti.header.get_zooms()[:3], rtol=1e-3)
    index = _voxel_map(nifti.affine, cine.affine, reference.shape)
    # The NIfTI crop is the centred 192 x 192 of the 256 x 256 image; its slices run the other way.
    in_plane = index[:, :, 0, :2] - index[0, 0, 0, :2]
    np.testing.assert_array_equal(in_plane, np.indices((192, 192)).transpose(1, 2, 0))
    assert tuple(index[0, 0, 0, :2]) == (32, 32)
    assert list(np.diff(index[0, 0, :, 2])) == [-1] * (reference.shape[2] - 1)
    i, j, k = np.moveaxis(index, -1, 0)
    np.testing.assert_array_equal(cine.array[i, j, k], reference)  # every phase in the same order
    times = cine.meta["trigger_times_ms"]
    assert times == sorted(times) and cine.meta["phase_order"] == "TriggerTime"
    assert len(cine.meta["notes"]) == 2


@dataclass
class Run:
    """One ``pscgan predict`` of the whole SCD0000101 series."""

    out: Path
    cine: ImageVolume
    exit_code: int
    output: str
    uid_warnings: list[str]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("real-dicom") / "pred"
    records = _Records()
    logging.getLogger().addHandler(records)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = runner.invoke(app, ["predict", str(_dicom("SCD0000101")), "--out", str(out)])
    finally:
        logging.getLogger().removeHandler(records)
    seen = [str(w.message) for w in caught] + records.messages + [res.output]
    cine = read_dicom_series(_dicom("SCD0000101"), kind="cine")
    return Run(out, cine, res.exit_code, res.output, [m for m in seen if "VR UI" in m])


def test_predict_writes_every_output(run: Run) -> None:
    assert run.exit_code == 0, run.output
    subject = run.out / "SCD0000101"
    for name in ("synthetic_lge.nii.gz", "segmentation.nii.gz", "clinical.json", "outputs.json",
                 "dicom/segmentation.dcm"):
        assert (subject / name).is_file(), name
    assert len(list((subject / "dicom" / "synthetic_lge").iterdir())) == 12
    assert json.loads((subject / "outputs.json").read_text())["failed"] == []
    assert json.loads((run.out / "summary.json").read_text())["output_failures"] == []
    # a series without subject.json is read from its earliest trigger time, and clinical.json says so
    ed = json.loads((subject / "clinical.json").read_text())["end_diastole"]
    assert ed == {"phase": 0, "phases": run.cine.array.shape[3],
                  "from": "the earliest trigger time of the series"}


def test_the_uid_rule_break_is_reported_once(run: Run) -> None:
    assert run.uid_warnings == []  # neither pydicom's warnings nor its log records
    line = ("note: SCD0000101: 240 source files have UIDs that do not follow DICOM rules (e.g. a component "
            "starts with 0); they are read as they are")
    assert run.output.splitlines().count(line) == 1, run.output
    assert sum("FrameOfReferenceUIDs" in x for x in run.output.splitlines()) == 1
    notes = json.loads((run.out / "summary.json").read_text())["notes"]
    assert [n["subject"] for n in notes] == ["SCD0000101"] * 2


def test_outputs_have_the_geometry_of_the_nifti_version(run: Run) -> None:
    subject = run.out / "SCD0000101"
    nifti = nib.load(str(SUNNYBROOK / SUBJECTS["SCD0000101"] / "cine.nii.gz"))
    for name in ("synthetic_lge.nii.gz", "segmentation.nii.gz"):
        out = nib.load(str(subject / name))
        assert out.shape == (256, 256, 12)
        np.testing.assert_allclose(out.affine, run.cine.affine, atol=1e-4)
        index = _voxel_map(nifti.affine, out.affine, nifti.shape)
        assert tuple(index[0, 0, 0, :2]) == (32, 32)
    lge = np.asarray(nib.load(str(subject / "synthetic_lge.nii.gz")).dataobj)
    back = read_dicom_series(subject / "dicom" / "synthetic_lge", kind="image")
    np.testing.assert_allclose(back.affine, run.cine.affine, atol=1e-4)
    assert np.max(np.abs(back.array - lge)) <= 0.5 / 4095 + 1e-6
    assert back.meta["frame_of_reference_uid_count"] == 1  # one frame of reference, unlike the source


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")  # the outputs keep the source's UIDs
def test_seg_reads_back_on_its_source_images(run: Run) -> None:
    import highdicom as hd

    subject = run.out / "SCD0000101"
    seg = hd.seg.segread(subject / "dicom" / "segmentation.dcm")
    hd.seg.Segmentation.from_dataset(pydicom.dcmread(subject / "dicom" / "segmentation.dcm"))
    images = [pydicom.dcmread(f) for f in sorted((subject / "dicom" / "synthetic_lge").iterdir())]
    labels = np.asarray(nib.load(str(subject / "segmentation.nii.gz")).dataobj)
    ed_uids = [uids[0] for uids in run.cine.meta["sop_instance_uids"]]
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == run.cine.meta["series_instance_uid"]
    assert {i.ReferencedSOPInstanceUID for i in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence} \
        <= set(ed_uids)
    masks = seg.get_pixels_by_source_instance(source_sop_instance_uids=ed_uids, segment_numbers=[1, 2, 3])
    for number in (1, 2, 3):
        np.testing.assert_array_equal(masks[..., number - 1], np.transpose(labels == number, (2, 1, 0)))
    position_of = dict(zip(ed_uids, run.cine.meta["image_positions_patient"]))
    for frame in seg.PerFrameFunctionalGroupsSequence:
        source = frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        np.testing.assert_allclose([float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient],
                                   position_of[source], atol=1e-3)
    frames = {seg.FrameOfReferenceUID} | {ds.FrameOfReferenceUID for ds in images}
    assert frames == {run.cine.meta["frame_of_reference_uid"]}
    studies = {ds.StudyInstanceUID for ds in images} | {seg.StudyInstanceUID}
    assert studies == {run.cine.meta["study_instance_uid"]}
    assert [ds.SourceImageSequence[0].ReferencedSOPInstanceUID for ds in images] == ed_uids


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
def test_outputs_are_deidentified(run: Run) -> None:
    subject = run.out / "SCD0000101"
    files = [subject / "dicom" / "segmentation.dcm", *sorted((subject / "dicom" / "synthetic_lge").iterdir())]
    for f in files:
        data = f.read_bytes()
        assert b"SCD0000101" not in data and b"48OwLe2NUfWk" not in data, f.name  # patient name, serial
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        assert str(ds.PatientName).rstrip("^") == "ANONYMOUS" and ds.PatientID == "ANONYMOUS"
        assert ds.PatientIdentityRemoved == "YES" and ds.PatientBirthDate == ""


_SOURCE_UID_ERROR = re.compile(r"^Error - Value invalid for this VR - .* UI .*<([0-9.]+)> - "
                               r"Leading zeroes in embedded numeric component\(s\)$")


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) not installed")
def test_dciodvfy_finds_no_error_but_the_sources_uids(run: Run) -> None:
    """dciodvfy's only errors are the source's own UIDs, which the outputs keep to reference its images."""
    subject = run.out / "SCD0000101"
    source_uids = {run.cine.meta["study_instance_uid"], run.cine.meta["series_instance_uid"],
                   run.cine.meta["frame_of_reference_uid"]}
    source_uids |= {uid for uids in run.cine.meta["sop_instance_uids"] for uid in uids}
    files = [subject / "dicom" / "segmentation.dcm", *sorted((subject / "dicom" / "synthetic_lge").iterdir())]
    for f in files:
        result = subprocess.run(["dciodvfy", str(f)], capture_output=True, text=True, timeout=60)
        errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")]
        kept = [m.group(1) for m in map(_SOURCE_UID_ERROR.match, errors) if m]
        other = [e for e in errors if not _SOURCE_UID_ERROR.match(e)
                 and e != "Error - Dicom dataset contains invalid data values for Value Representations"]
        assert other == [], (f.name, other)
        assert set(kept) <= source_uids, f.name


def _two_slices(folder: Path) -> Path:
    folder.mkdir()
    for n in range(1, 41):  # files in acquisition order: all 20 phases of 2 slices
        shutil.copy(_dicom("SCD0000101") / f"{n}.dcm", folder / f"{n}.dcm")
    return folder


def test_kept_identifiers_with_the_sources_quirks(tmp_path: Path) -> None:
    """The source's dates are no dates (00000000, month 00): kept identifiers still give every output."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = runner.invoke(app, ["predict", str(_two_slices(tmp_path / "two_slices")), "--out",
                                  str(tmp_path / "pred"), "--keep-identifiers"])
    assert res.exit_code == 0, res.output
    assert not [w for w in caught if "VR UI" in str(w.message)]
    subject = tmp_path / "pred" / "two_slices"
    assert (subject / "dicom" / "segmentation.dcm").is_file()
    assert json.loads((subject / "identifiers.json").read_text())["PatientID"] == "SCD0000101"


def test_a_failing_seg_keeps_the_nifti_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pscgan.inference import dicom_seg

    series = _two_slices(tmp_path / "two_slices")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ValueError("injected SEG failure")

    monkeypatch.setattr(dicom_seg, "build_segmentation", refuse)
    res = runner.invoke(app, ["predict", str(series), "--out", str(tmp_path / "pred")])
    assert res.exit_code == 1, res.output
    assert ("failed: two_slices: DICOM SEG (dicom/segmentation.dcm) not written: ValueError: injected SEG "
            "failure; the NIfTI results are written") in res.output.splitlines()
    subject = tmp_path / "pred" / "two_slices"
    assert nib.load(str(subject / "segmentation.nii.gz")).shape == (256, 256, 2)
    assert (subject / "synthetic_lge.nii.gz").is_file()
    assert not (subject / "dicom" / "segmentation.dcm").exists()
    record = json.loads((subject / "outputs.json").read_text())
    assert [f["output"] for f in record["failed"]] == ["dicom/segmentation.dcm"]
    assert record["notes"][0].startswith("40 source files have UIDs that do not follow DICOM rules")
