"""Cohort generation: layout, split, normals, worker independence, re-rendering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pscgan.data.layout import LabelGeometry, load_subject, read_manifest
from pscgan.errors import InputError, OutputExistsError
from pscgan.phantom.cohort import CohortOptions, generate_cohort, normal_flags, rerender_subject, subject_seed

SMALL = CohortOptions(n_subjects=4, n_slices=1, seed=3, normal_fraction=0.25)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cohort")
    generate_cohort(out, SMALL, workers=1, progress=False)
    return out


def test_layout_manifest_and_split(cohort: Path) -> None:
    manifest = read_manifest(cohort)
    assert manifest.subjects == [f"phantom_{i:04d}" for i in range(4)]
    assert len(manifest.split["train"]) == 3 and len(manifest.split["test"]) == 1
    assert set(manifest.split["train"]).isdisjoint(manifest.split["test"])
    assert manifest.provenance["options"]["seed"] == 3
    assert manifest.provenance["created_by"].startswith("pscgan ")
    assert manifest.labels_geometry is LabelGeometry.CINE  # written explicitly, not left to the default
    assert '"labels_geometry": "cine"' in (cohort / "dataset.json").read_text()
    normals = manifest.provenance["normal_subjects"]
    assert len(normals) == 1
    for sid in manifest.subjects:
        subject = load_subject(cohort / sid, require_lge=True, require_labels=True)
        assert subject.cine_labels is not None and subject.cine.array.shape == (64, 64, 1, 25)
        assert subject.info.normal == (sid in normals)
        assert subject.info.provenance.seed == subject_seed(3, int(sid[-4:]))


def test_rerender_is_bit_identical(cohort: Path) -> None:
    folder = cohort / "phantom_0002"
    subject = load_subject(folder, require_lge=True, require_labels=True)
    again = rerender_subject(folder)
    assert np.array_equal(again.cine, subject.cine.array)
    assert np.array_equal(again.lge, subject.lge.array)
    assert np.array_equal(again.labels, subject.labels.array)
    assert np.array_equal(again.cine_labels, subject.cine_labels.array)


def test_worker_count_does_not_change_the_output(cohort: Path, tmp_path: Path) -> None:
    generate_cohort(tmp_path, SMALL, workers=2, progress=False)
    for sid in read_manifest(cohort).subjects:
        a, b = load_subject(cohort / sid), load_subject(tmp_path / sid)
        for name in ("cine", "lge", "labels", "cine_labels"):
            assert np.array_equal(getattr(a, name).array, getattr(b, name).array), (sid, name)
        assert (cohort / sid / "subject.json").read_text() == (tmp_path / sid / "subject.json").read_text()


def test_non_empty_folder_is_refused_and_left_alone(tmp_path: Path) -> None:
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    with pytest.raises(OutputExistsError):
        generate_cohort(tmp_path, CohortOptions(n_subjects=1, n_slices=1), workers=1, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"] and keep.read_text() == "mine"


def test_default_cohort_mirrors_the_paper() -> None:
    flags = normal_flags(CohortOptions())
    assert flags.sum() == 50 and flags.size == 280
    assert not np.array_equal(flags, normal_flags(CohortOptions(seed=1)))
    assert subject_seed(0, 1) != subject_seed(0, 2) != subject_seed(1, 1)


def test_rerender_refuses_a_folder_without_parameters(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        rerender_subject(tmp_path)
