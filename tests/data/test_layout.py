from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from pscgan.data.layout import (
    MANIFEST_FILE,
    DatasetManifest,
    LabelGeometry,
    Provenance,
    SliceInfo,
    SliceLevel,
    SubjectInfo,
    dataset_labels_geometry,
    labels_geometry_of,
    list_subject_folders,
    load_subject,
    make_split,
    read_manifest,
    write_manifest,
    write_subject,
)
from pscgan.errors import InputError, OutputExistsError


def _info(sid="s001", n_slices=2, n_phases=5):
    return SubjectInfo(
        subject_id=sid,
        pixel_spacing_mm=(1.5, 1.5),
        slice_thickness_mm=8.0,
        n_phases=n_phases,
        rr_interval_ms=900.0,
        slices=[
            SliceInfo(index=i, level=SliceLevel.MID, rv_insertion_angle_deg=120.0) for i in range(n_slices)
        ],
        provenance=Provenance(source="test", created_by="tests"),
    )


def _write(root, sid="s001", **kw):
    rng = np.random.default_rng(0)
    cine = rng.random((16, 12, 2, 5), dtype=np.float32)
    lge = rng.random((16, 12, 2), dtype=np.float32)
    labels = rng.integers(0, 4, (16, 12, 2)).astype(np.uint8)
    return write_subject(root, _info(sid), cine=cine, lge=lge, labels=labels, **kw), cine, lge, labels


def test_subject_round_trip(tmp_path):
    folder, cine, lge, labels = _write(tmp_path)
    s = load_subject(folder, require_labels=True)
    np.testing.assert_array_equal(s.cine.array, cine)
    np.testing.assert_array_equal(s.lge.array, lge)
    np.testing.assert_array_equal(s.labels.array, labels)
    assert s.labels.array.dtype == np.uint8
    assert s.cine.spacing == (1.5, 1.5, 8.0)
    assert s.info.slices[1].level is SliceLevel.MID
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_write_subject_refuses_existing_folder(tmp_path):
    folder, *_ = _write(tmp_path)
    before = (folder / "cine.nii.gz").read_bytes()
    with pytest.raises(OutputExistsError, match="--overwrite"):
        _write(tmp_path)
    assert (folder / "cine.nii.gz").read_bytes() == before
    _write(tmp_path, overwrite=True)


def test_unsafe_subject_id_is_refused():
    with pytest.raises(ValueError):
        _info("../outside")


def test_slices_listed_out_of_order_are_read_by_index():
    info = _info(n_slices=0).model_copy(update={"slices": []})
    data = info.model_dump(mode="json") | {
        "slices": [
            {"index": 2, "level": "apical"},
            {"index": 0, "level": "basal"},
            {"index": 1, "level": "mid", "rv_insertion_angle_deg": 100.0},
        ]
    }
    info = SubjectInfo.model_validate(data)
    assert [s.index for s in info.slices] == [0, 1, 2]
    assert info.slice_metadata(4) == (["basal", "mid", "apical", None], [None, 100.0, None, None])


def test_duplicate_slice_indices_are_refused():
    data = _info().model_dump(mode="json")
    data["slices"] = [{"index": 1, "level": "basal"}, {"index": 1, "level": "mid"}]
    with pytest.raises(ValueError, match="unique"):
        SubjectInfo.model_validate(data)


def test_missing_and_mismatched_files_name_the_file(tmp_path):
    folder, *_ = _write(tmp_path)
    (folder / "labels.nii.gz").unlink()
    assert load_subject(folder).labels is None
    with pytest.raises(InputError, match="labels.nii.gz: file not found"):
        load_subject(folder, require_labels=True)
    info = json.loads((folder / "subject.json").read_text())
    info["n_phases"] = 7
    (folder / "subject.json").write_text(json.dumps(info))
    with pytest.raises(InputError, match="cine.nii.gz: has 5 phases but subject.json says 7"):
        load_subject(folder)


def test_bad_subject_json_is_reported(tmp_path):
    folder, *_ = _write(tmp_path)
    (folder / "subject.json").write_text("{not json")
    with pytest.raises(InputError, match="subject.json: not valid JSON"):
        load_subject(folder)
    (folder / "subject.json").write_text(json.dumps({"subject_id": "s001"}))
    with pytest.raises(InputError, match="invalid subject metadata"):
        load_subject(folder)


def test_label_values_out_of_range(tmp_path):
    from pscgan.io.nifti import write_nifti

    folder, *_ = _write(tmp_path)
    write_nifti(folder / "labels.nii.gz", np.full((16, 12, 2), 4, np.uint8), spacing=(1.5, 1.5, 8.0))
    with pytest.raises(InputError, match="label values must be 0..3"):
        load_subject(folder)


def test_split_is_by_subject_and_reproducible():
    ids = [f"s{i:03d}" for i in range(280)]
    a, b = make_split(ids, seed=3), make_split(ids, seed=3)
    assert a == b
    assert len(a["test"]) == 70 and len(a["train"]) == 210
    assert not set(a["train"]) & set(a["test"])
    assert make_split(ids, seed=4) != a


def test_manifest_round_trip_and_overlap_refused(tmp_path):
    _write(tmp_path, "s001")
    _write(tmp_path, "s002")
    m = DatasetManifest(name="t", subjects=["s001", "s002"], split={"train": ["s001"], "test": ["s002"]})
    write_manifest(tmp_path, m)
    assert read_manifest(tmp_path) == m
    assert [f.name for f in list_subject_folders(tmp_path)] == ["s001", "s002"]
    with pytest.raises(ValueError, match="split must be by subject"):
        DatasetManifest(name="t", subjects=["a"], split={"train": ["a"], "test": ["a"]})


def test_manifest_listing_missing_subject(tmp_path):
    _write(tmp_path, "s001")
    write_manifest(tmp_path, DatasetManifest(name="t", subjects=["s001", "ghost"]))
    with pytest.raises(InputError, match="ghost"):
        list_subject_folders(tmp_path)


def _old_manifest(root, provenance):
    """A dataset.json as written before ``labels_geometry`` existed (no such key)."""
    (root / MANIFEST_FILE).write_text(json.dumps({"schema_version": 1, "name": "old", "subjects": ["s001"],
                                                  "provenance": provenance}))


def test_labels_geometry_of_an_old_phantom_dataset_is_cine(tmp_path):
    _write(tmp_path, "s001")
    _old_manifest(tmp_path, {"source": "phantom", "created_by": "pscgan 0.1.0", "options": {}})
    manifest = read_manifest(tmp_path)
    assert manifest.labels_geometry is None
    assert labels_geometry_of(manifest) is LabelGeometry.CINE
    assert dataset_labels_geometry(tmp_path) is LabelGeometry.CINE


@pytest.mark.parametrize("provenance", [{}, {"source": "nifti", "created_by": "our-converter"}])
def test_labels_geometry_of_an_imported_dataset_is_lge(tmp_path, provenance):
    _write(tmp_path, "s001")
    _old_manifest(tmp_path, provenance)
    assert dataset_labels_geometry(tmp_path) is LabelGeometry.LGE


def test_labels_geometry_field_wins_and_round_trips(tmp_path):
    _write(tmp_path, "s001")
    m = DatasetManifest(name="t", subjects=["s001"], provenance={"source": "phantom"},
                        labels_geometry=LabelGeometry.LGE)
    write_manifest(tmp_path, m)
    assert json.loads((tmp_path / MANIFEST_FILE).read_text())["labels_geometry"] == "lge"
    assert read_manifest(tmp_path) == m and dataset_labels_geometry(tmp_path) is LabelGeometry.LGE
    with pytest.raises(ValueError, match="labels_geometry"):
        DatasetManifest(name="t", subjects=[], labels_geometry="ed")


def test_labels_geometry_without_a_manifest_follows_the_subjects(tmp_path):
    _write(tmp_path, "s001")
    assert dataset_labels_geometry(tmp_path) is LabelGeometry.LGE  # provenance source "test"
    phantom = _info("s002").model_copy(
        update={"provenance": Provenance(source="phantom", created_by="pscgan")}
    )
    rng = np.random.default_rng(1)
    write_subject(tmp_path, phantom, cine=rng.random((16, 12, 2, 5), dtype=np.float32))
    assert dataset_labels_geometry(tmp_path) is LabelGeometry.LGE  # mixed: not all from the phantom
    shutil.rmtree(tmp_path / "s001")
    assert dataset_labels_geometry(tmp_path) is LabelGeometry.CINE
