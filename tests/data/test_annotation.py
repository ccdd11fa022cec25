"""What a dataset annotates: dataset.json ``annotated``, its resolution from the files, and its checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pscgan.data.annotation import (
    check_labels,
    dataset_annotation,
    require_training_annotation,
)
from pscgan.data.layout import MANIFEST_FILE, Annotated, read_manifest
from pscgan.errors import ConfigError, InputError


@pytest.fixture
def anatomy_only(make_anatomy_only):
    return make_anatomy_only


def test_a_complete_dataset_annotates_everything(ring_dataset):
    a = dataset_annotation(ring_dataset)
    assert a.classes == tuple(Annotated) and a.source == "default" and a.scar and a.lge and a.complete
    assert a.missing_for_training() == []
    assert require_training_annotation(ring_dataset) == a


def test_dataset_json_says_what_is_annotated(ring_dataset, anatomy_only):
    anatomy_only(ring_dataset, annotated=["myocardium", "lv_blood_pool"])
    assert read_manifest(ring_dataset).annotated == [Annotated.LV_BLOOD_POOL, Annotated.MYOCARDIUM]
    a = dataset_annotation(ring_dataset)
    assert a.source == "manifest" and not a.scar and not a.any_lge
    assert a.allowed_labels() == {0, 1, 2}
    assert "annotated: lv_blood_pool, myocardium (dataset.json annotated); LGE in no subject" == a.describe()


def test_without_the_field_no_lge_and_no_scar_means_no_scar_annotated(ring_dataset, anatomy_only):
    anatomy_only(ring_dataset, annotated=None)
    a = dataset_annotation(ring_dataset)
    assert a.source == "inferred" and not a.scar
    assert a.as_dict()["annotated"] == ["lv_blood_pool", "myocardium"]


@pytest.mark.parametrize("bad, message", [(["scar"], "needs 'myocardium'"),
                                          (["myocardium", "myocardium"], "twice"), (["lv"], "lv_blood_pool")])
def test_invalid_annotated_lists_are_refused_naming_the_file(ring_dataset, bad, message):
    manifest = json.loads((ring_dataset / MANIFEST_FILE).read_text())
    (ring_dataset / MANIFEST_FILE).write_text(json.dumps({**manifest, "annotated": bad}))
    with pytest.raises(InputError, match=rf"dataset.json: invalid dataset manifest: annotated.*{message}"):
        dataset_annotation(ring_dataset)


def test_labels_of_a_class_not_annotated_are_refused(ring_dataset, anatomy_only):
    anatomy_only(ring_dataset, annotated=["lv_blood_pool", "myocardium"])
    a = dataset_annotation(ring_dataset)
    labels = np.array([[0, 1], [2, 3]], np.uint8)
    with pytest.raises(InputError, match=r"labels.nii.gz: holds label values \[3\] \(scar\)"):
        check_labels(labels, a, Path("s1/labels.nii.gz"))
    check_labels(labels[:1], a, Path("s1/labels.nii.gz"))


def test_training_refuses_partial_labels_in_one_line(ring_dataset, anatomy_only):
    anatomy_only(ring_dataset, annotated=["lv_blood_pool", "myocardium"])
    with pytest.raises(ConfigError) as err:
        require_training_annotation(ring_dataset)
    text = str(err.value)
    assert "\n" not in text and "cannot train on this dataset yet" in text
    assert "no scar class" in text and "LGE images (4 of 4 subjects have none)" in text


def test_sunnybrook_is_read_as_blood_pool_and_myocardium_without_lge(sunnybrook_dir):
    a = dataset_annotation(sunnybrook_dir)
    assert a.source == "inferred" and not a.scar and not a.any_lge and a.n_subjects == 2
