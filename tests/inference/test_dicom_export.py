"""DICOM outputs: derived MR series + SEG, read back with the project's reader and highdicom."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pydicom
import pytest

from pscgan.errors import InputError, OutputExistsError
from pscgan.inference import dicom_export
from pscgan.inference.dicom_export import MAX_STORED, export_dicom
from pscgan.io.dicom import read_dicom_series
from pscgan.io.image import ImageVolume

N_SLICES, N_PHASES, ROWS, COLS = 2, 3, 12, 10  # rows != cols so that a transposition cannot pass

#: Identifiers planted in the source; none may appear in de-identified outputs.
PLANTED = {"PatientName": "Doe^Jane", "PatientID": "PID-4711", "PatientBirthDate": "19700101",
           "OtherPatientIDs": "OTHER-0815", "InstitutionName": "St Elsewhere Hospital",
           "ReferringPhysicianName": "House^Gregory", "AccessionNumber": "ACC99887", "StudyID": "STUDY777",
           "StudyDate": "20210314", "StationName": "MRSTATION9", "PatientAge": "051Y",
           "StudyDescription": "Cardiac^Jane Doe research"}


def _write_cine(kit: ModuleType, folder: Path, n_slices: int = N_SLICES, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 4000, size=(n_slices, N_PHASES, ROWS, COLS), dtype=np.uint16)
    folder.mkdir(parents=True)
    positions = kit.slice_positions(n_slices)
    for k in range(n_slices):
        for t in range(N_PHASES):
            ds = kit.make_dataset(images[k, t], position=positions[k], trigger_ms=40.0 * t,
                                     instance=k * N_PHASES + t + 1)
            for keyword, value in PLANTED.items():
                setattr(ds, keyword, value)
            ds.PatientSex = "F"
            ds.save_as(folder / f"IM{k}{t}.dcm", enforce_file_format=True)
    return images


@pytest.fixture
def cine(dicom_kit: ModuleType, tmp_path: Path) -> ImageVolume:
    _write_cine(dicom_kit, tmp_path / "cine")
    return read_dicom_series(tmp_path / "cine", kind="cine")


def _predictions(shape: tuple[int, ...], seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lge = rng.random(shape).astype(np.float32)
    lge[0, 0, 0], lge[1, 0, 0] = 0.0, 1.0  # both ends of the range
    labels = rng.integers(0, 4, size=shape).astype(np.uint8)
    if shape[2] > 1:
        labels[:, :, 1][labels[:, :, 1] == 3] = 2  # no scar on slice 1: its scar frame is omitted
    return lge, labels


def _all_bytes(paths: dict[str, Path]) -> bytes:
    files = sorted(paths["synthetic_lge"].iterdir()) + [paths["segmentation"]]
    return b"".join(f.read_bytes() for f in files)


def test_synthetic_lge_round_trips_through_the_reader(cine: ImageVolume, tmp_path: Path) -> None:
    lge, labels = _predictions(cine.spatial_shape)
    paths = export_dicom(cine, lge, labels, tmp_path / "out" / "dicom")
    assert paths["synthetic_lge"] == tmp_path / "out" / "dicom" / "synthetic_lge"
    assert sorted(p.name for p in paths["synthetic_lge"].iterdir()) == ["IM_0001.dcm", "IM_0002.dcm"]
    back = read_dicom_series(paths["synthetic_lge"], kind="image")
    assert back.array.shape == cine.spatial_shape
    assert np.max(np.abs(back.array - lge)) <= 0.5 / MAX_STORED + 1e-6
    np.testing.assert_allclose(back.affine, cine.affine, atol=1e-6)
    np.testing.assert_allclose(back.spacing, cine.spacing)
    for key in ("study_instance_uid", "frame_of_reference_uid", "image_orientation_patient",
                "image_positions_patient", "slice_thickness_mm"):
        assert back.meta[key] == cine.meta[key], key
    assert back.meta["series_instance_uid"] != cine.meta["series_instance_uid"]
    for k in range(N_SLICES):
        ds = pydicom.dcmread(paths["synthetic_lge"] / f"IM_{k + 1:04d}.dcm")
        # Stored image of slice k is array[:, :, k].T, independently of the reader.
        np.testing.assert_array_equal(ds.pixel_array, np.rint(lge[:, :, k].T * MAX_STORED).astype(np.uint16))
        assert list(ds.ImageType) == ["DERIVED", "SECONDARY", "OTHER"]
        assert ds.SeriesDescription == "pscgan synthetic LGE (research use, not for diagnosis)"
        assert ds.DerivationDescription
        assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == cine.meta["sop_instance_uids"][k][0]
        assert ds.SOPInstanceUID not in {u for uids in cine.meta["sop_instance_uids"] for u in uids}


def test_segmentation_reads_back_with_highdicom(cine: ImageVolume, tmp_path: Path) -> None:
    import highdicom as hd

    lge, labels = _predictions(cine.spatial_shape)
    paths = export_dicom(cine, lge, labels, tmp_path / "dicom")
    seg = hd.seg.segread(paths["segmentation"])
    assert seg.SegmentationType == "BINARY"
    assert seg.StudyInstanceUID == cine.meta["study_instance_uid"]
    assert seg.FrameOfReferenceUID == cine.meta["frame_of_reference_uid"]
    assert [d.SegmentLabel for d in seg.SegmentSequence] == ["LV blood pool", "healthy myocardium", "scar"]
    assert [d.SegmentedPropertyTypeCodeSequence[0].CodeValue for d in seg.SegmentSequence] == \
           ["87612001", "49848007", "12402003"]
    algorithm = seg.SegmentSequence[0].SegmentationAlgorithmIdentificationSequence[0]
    assert algorithm.AlgorithmName == "pscgan" and algorithm.AlgorithmVersion
    ed_uids = [uids[0] for uids in cine.meta["sop_instance_uids"]]
    masks = seg.get_pixels_by_source_instance(source_sop_instance_uids=ed_uids, segment_numbers=[1, 2, 3])
    assert masks.shape == (N_SLICES, ROWS, COLS, 3)
    for number in (1, 2, 3):
        np.testing.assert_array_equal(masks[..., number - 1], np.transpose(labels == number, (2, 1, 0)))
    # Every frame sits on its source slice.
    position_of = dict(zip(ed_uids, cine.meta["image_positions_patient"]))
    assert len(seg.PerFrameFunctionalGroupsSequence) == 5  # 3 segments x 2 slices, minus slice 1's scar
    for frame in seg.PerFrameFunctionalGroupsSequence:
        source = frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        np.testing.assert_allclose([float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient],
                                   position_of[source], atol=1e-3)


def test_other_phase_and_empty_segmentation(cine: ImageVolume, tmp_path: Path) -> None:
    import highdicom as hd

    lge, _ = _predictions(cine.spatial_shape)
    labels = np.zeros(cine.spatial_shape, np.uint8)
    paths = export_dicom(cine, lge, labels, tmp_path / "dicom", phase=2)
    ds = pydicom.dcmread(paths["synthetic_lge"] / "IM_0002.dcm", stop_before_pixels=True)
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == cine.meta["sop_instance_uids"][1][2]
    seg = hd.seg.segread(paths["segmentation"])
    uids = [u[2] for u in cine.meta["sop_instance_uids"]]
    masks = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, segment_numbers=[1, 2, 3])
    assert masks.shape == (N_SLICES, ROWS, COLS, 3) and not masks.any()


def test_single_slice_keeps_its_thickness_as_spacing(dicom_kit: ModuleType, tmp_path: Path) -> None:
    import highdicom as hd

    _write_cine(dicom_kit, tmp_path / "cine", n_slices=1)
    cine = read_dicom_series(tmp_path / "cine", kind="cine")
    lge, labels = _predictions(cine.spatial_shape)
    paths = export_dicom(cine, lge, labels, tmp_path / "dicom")
    back = read_dicom_series(paths["synthetic_lge"], kind="image")
    np.testing.assert_allclose(back.affine, cine.affine, atol=1e-6)
    seg = hd.seg.segread(paths["segmentation"])
    measures = seg.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    assert float(measures.SpacingBetweenSlices) == cine.spacing[2] == 8.0


def test_outputs_are_deidentified_by_default(cine: ImageVolume, tmp_path: Path) -> None:
    lge, labels = _predictions(cine.spatial_shape)
    paths = export_dicom(cine, lge, labels, tmp_path / "dicom")
    data = _all_bytes(paths)
    for keyword, value in PLANTED.items():
        assert value.encode() not in data, keyword
    for f in [*paths["synthetic_lge"].iterdir(), paths["segmentation"]]:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        assert str(ds.PatientName).rstrip("^") == "ANONYMOUS" and ds.PatientID == "ANONYMOUS"
        assert ds.PatientIdentityRemoved == "YES" and ds.DeidentificationMethod
        assert ds.PatientBirthDate == "" and ds.PatientSex == "" and ds.StudyDate == ""
        for keyword in ("OtherPatientIDs", "InstitutionName", "StationName", "PatientAge",
                        "StudyDescription"):
            assert keyword not in ds, (f.name, keyword)


def test_keep_identifiers_copies_them(cine: ImageVolume, tmp_path: Path) -> None:
    lge, labels = _predictions(cine.spatial_shape)
    paths = export_dicom(cine, lge, labels, tmp_path / "dicom", keep_identifiers=True)
    for f in [*paths["synthetic_lge"].iterdir(), paths["segmentation"]]:
        data = f.read_bytes()
        for keyword in ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "StudyID",
                        "InstitutionName", "ReferringPhysicianName"):
            assert PLANTED[keyword].encode() in data, (f.name, keyword)
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        assert ds.PatientSex == "F" and "PatientIdentityRemoved" not in ds


def test_shape_and_value_errors(cine: ImageVolume, tmp_path: Path) -> None:
    lge, labels = _predictions(cine.spatial_shape)
    out = tmp_path / "dicom"
    with pytest.raises(ValueError, match="synthetic_lge has shape"):
        export_dicom(cine, lge[:, :, :1], labels, out)
    with pytest.raises(ValueError, match="segmentation has shape"):
        export_dicom(cine, lge, labels.transpose(1, 0, 2), out)
    with pytest.raises(ValueError, match="expected \\[0, 1\\]"):
        export_dicom(cine, lge * 100, labels, out)
    with pytest.raises(ValueError, match="NaN"):
        export_dicom(cine, np.full_like(lge, np.nan), labels, out)
    with pytest.raises(ValueError, match="0..3"):
        export_dicom(cine, lge, labels + 1, out)
    with pytest.raises(ValueError, match="phase 3 out of range"):
        export_dicom(cine, lge, labels, out, phase=3)
    nifti_like = ImageVolume(cine.array, spacing=cine.spacing, affine=cine.affine, source=cine.source)
    with pytest.raises(ValueError, match="not read from a DICOM cine"):
        export_dicom(nifti_like, lge, labels, out)
    assert not out.exists()


def _source_file(cine: ImageVolume, k: int, phase: int = 0) -> Path:
    uid = cine.meta["sop_instance_uids"][k][phase]
    return next(p for p in Path(cine.source).iterdir()
                if pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID == uid)


def _assert_nothing_written(parent: Path) -> None:
    assert not (parent / "dicom").exists()
    assert not parent.exists() or not [p for p in parent.iterdir() if p.name.startswith(".dicom")]


def test_missing_source_image_is_named(cine: ImageVolume, tmp_path: Path) -> None:
    lge, labels = _predictions(cine.spatial_shape)
    uid = cine.meta["sop_instance_uids"][1][0]
    _source_file(cine, 1).unlink()
    with pytest.raises(InputError, match=f"slice 1: SOPInstanceUID {uid}"):
        export_dicom(cine, lge, labels, tmp_path / "out" / "dicom")
    _assert_nothing_written(tmp_path / "out")


def test_unreadable_source_image_is_named(cine: ImageVolume, tmp_path: Path) -> None:
    lge, labels = _predictions(cine.spatial_shape)
    path = _source_file(cine, 0)
    path.write_bytes(b"not a DICOM file")
    with pytest.raises(InputError, match=f"unreadable files in the folder: {path.name}"):
        export_dicom(cine, lge, labels, tmp_path / "out" / "dicom")


def test_changed_source_image_is_refused(cine: ImageVolume, tmp_path: Path) -> None:
    lge, labels = _predictions(cine.spatial_shape)
    path = _source_file(cine, 0)
    ds = pydicom.dcmread(path)
    ds.ImagePositionPatient = [0, 0, 0]
    ds.save_as(path)
    with pytest.raises(InputError, match="no longer matches the cine") as info:
        export_dicom(cine, lge, labels, tmp_path / "dicom")
    assert info.value.path == path


def test_existing_output_is_refused_and_failures_leave_nothing(cine: ImageVolume, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    lge, labels = _predictions(cine.spatial_shape)
    out = tmp_path / "out" / "dicom"
    out.mkdir(parents=True)
    (out / "old.txt").write_text("x")
    with pytest.raises(OutputExistsError):
        export_dicom(cine, lge, labels, out)
    (out / "old.txt").unlink()  # an empty folder is accepted

    class FailingSeg:
        def save_as(self, *args: Any, **kwargs: Any) -> None:
            raise OSError("disk full")

    from pscgan.inference import dicom_seg

    monkeypatch.setattr(dicom_seg, "build_segmentation", lambda *a, **k: FailingSeg())
    monkeypatch.setattr(dicom_export, "_copy_deidentification_status", lambda *a: None)
    with pytest.raises(OSError, match="disk full"):
        export_dicom(cine, lge, labels, out)
    assert not any(out.iterdir())  # the series written before the failure never became visible
    assert [p.name for p in out.parent.iterdir()] == ["dicom"]


def test_one_frame_of_reference_per_file_becomes_one(dicom_kit: ModuleType, tmp_path: Path) -> None:
    """Some anonymisers give every file its own FrameOfReferenceUID; the outputs (and highdicom) need one."""
    import highdicom as hd

    _write_cine(dicom_kit, tmp_path / "cine")
    for n, path in enumerate(sorted((tmp_path / "cine").iterdir())):
        ds = pydicom.dcmread(path)
        ds.FrameOfReferenceUID = f"1.2.3.9.{n + 1}"
        ds.save_as(path)
    cine = read_dicom_series(tmp_path / "cine", kind="cine")
    assert cine.meta["frame_of_reference_uid_count"] == N_SLICES * N_PHASES
    lge, labels = _predictions(cine.spatial_shape)
    paths = export_dicom(cine, lge, labels, tmp_path / "dicom")
    seg = hd.seg.segread(paths["segmentation"])
    frames = {pydicom.dcmread(f).FrameOfReferenceUID for f in paths["synthetic_lge"].iterdir()}
    assert frames == {seg.FrameOfReferenceUID} == {cine.meta["frame_of_reference_uid"]}
    ed_uids = [uids[0] for uids in cine.meta["sop_instance_uids"]]
    masks = seg.get_pixels_by_source_instance(source_sop_instance_uids=ed_uids, segment_numbers=[1, 2, 3])
    np.testing.assert_array_equal(masks[..., 0], np.transpose(labels == 1, (2, 1, 0)))


@pytest.mark.filterwarnings("ignore:Invalid value for VR DA")  # pydicom, while the test plants them
def test_kept_dates_that_are_no_dates_are_left_empty(dicom_kit: ModuleType, tmp_path: Path) -> None:
    """Anonymisers write dates such as 00000000 or month 00; highdicom cannot parse them into a SEG."""
    _write_cine(dicom_kit, tmp_path / "cine")
    for path in (tmp_path / "cine").iterdir():
        ds = pydicom.dcmread(path)
        ds.PatientBirthDate, ds.StudyDate, ds.StudyTime = "00000000", "20120000", "083237.000000"
        ds.save_as(path)
    cine = read_dicom_series(tmp_path / "cine", kind="cine")
    lge, labels = _predictions(cine.spatial_shape)
    paths = export_dicom(cine, lge, labels, tmp_path / "dicom", keep_identifiers=True)
    for f in [*paths["synthetic_lge"].iterdir(), paths["segmentation"]]:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        assert ds.PatientBirthDate == "" and ds.StudyDate == "" and ds.StudyTime == "083237.000000"
        assert ds.PatientID == PLANTED["PatientID"]
