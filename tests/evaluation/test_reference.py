"""The reference LGE is registered to the cine as the model's targets were; labels move only when drawn on
it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.data.layout import (
    DatasetManifest,
    LabelGeometry,
    Provenance,
    SliceInfo,
    SliceLevel,
    SubjectInfo,
    write_manifest,
    write_subject,
)
from pscgan.evaluation.evaluate import evaluate, load_pairs
from pscgan.evaluation.reference import RegistrationSource, recorded_prediction, reference_protocol

runner = CliRunner()
SHIFT_RC = (3, -2)  # display (row, col) pixels the stored LGE sits off the cine


def _misregistered_dataset(root, geometry: LabelGeometry, ring_subject):
    """Two ring subjects whose LGE is moved by SHIFT_RC; the labels with it when drawn on the LGE."""
    ids, aligned = [], {}
    for i in range(2):
        cine, lge, labels = ring_subject(i, n_slices=1)
        sid = f"ring_{i:02d}"
        aligned[sid] = labels[:, :, 0].T
        shift_xy = (SHIFT_RC[1], SHIFT_RC[0])  # volumes are (x, y, slice): x is the display column
        lge = np.roll(lge, shift_xy, axis=(0, 1))
        if geometry is LabelGeometry.LGE:
            labels = np.roll(labels, shift_xy, axis=(0, 1))
        info = SubjectInfo(subject_id=sid, pixel_spacing_mm=(1.5, 1.5), slice_thickness_mm=8.0, n_phases=25,
                           rr_interval_ms=900.0, slices=[SliceInfo(index=0, level=SliceLevel.MID)],
                           provenance=Provenance(source="test", created_by="tests"))
        write_subject(root, info, cine=cine, lge=lge, labels=labels)
        ids.append(sid)
    write_manifest(root, DatasetManifest(name="shifted", subjects=ids, labels_geometry=geometry))
    return aligned


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """Untrained ``tiny`` networks with 32x32 crops (wide enough to hold the ring's wall): only the
    reference side is under test."""
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.models.factory import build_cascade
    from pscgan.models.weights import save_weights

    cfg = apply_overrides(get_preset("tiny"), ["model.image_size=32"])
    path = tmp_path_factory.mktemp("weights") / "tiny32.safetensors"
    save_weights(path, build_cascade(cfg), cfg)
    return path


@pytest.fixture(scope="module", params=[LabelGeometry.LGE, LabelGeometry.CINE], ids=lambda g: g.value)
def case(request, weights, make_ring_subject, tmp_path_factory):
    """(reference dataset, its predictions, aligned labels per subject, label geometry)."""
    root = tmp_path_factory.mktemp(f"shifted-{request.param.value}")
    aligned = _misregistered_dataset(root / "data", request.param, make_ring_subject)
    # the cascade alone: the known shift is in the cine's own pixels, which the FOV rule would change
    res = runner.invoke(app, ["predict", str(root / "data"), "--weights", str(weights), "--no-anatomy",
                              "--out", str(root / "pred")])
    assert res.exit_code == 0, res.output
    return root / "data", root / "pred", aligned, request.param


def _crop(image, pair, k, pred):
    box = json.loads((pred / pair.subject_id / "records.json").read_text())[k]["crop"]
    return image[box["row0"]:box["row0"] + box["size"], box["col0"]:box["col0"] + box["size"]]


def test_reference_is_registered_and_labels_follow_the_lge_only_when_drawn_on_it(case):
    data, pred, aligned, geometry = case
    protocol = reference_protocol(pred, data)
    # the tiny preset trains on registered LGE, and the prediction folder records it
    assert (protocol.register_lge, protocol.source) == (True, RegistrationSource.PREDICTIONS)
    assert protocol.labels_geometry is geometry
    for pair in load_pairs(pred, data, protocol):
        rec = pair.registration[0]
        assert rec is not None and rec.applied and rec.outcome.value == "applied"
        # the known shift is recovered within a pixel (the registration moves the LGE back)
        assert np.hypot(*(np.asarray(rec.shift_rc_px) + SHIFT_RC)) <= 1.0 and abs(rec.rotation_deg) <= 1.0
        expected = _crop(aligned[pair.subject_id], pair, 0, pred)
        if geometry is LabelGeometry.LGE:  # moved back with the LGE: (nearly) the aligned labels
            assert np.mean(pair.labels_ref[0] == expected) > 0.97
        else:  # already in the cine's geometry: untouched
            np.testing.assert_array_equal(pair.labels_ref[0], expected)


def test_unregistered_reference_keeps_the_misregistration(case):
    data, pred, aligned, geometry = case
    protocol = reference_protocol(pred, data, register_lge=False)
    assert (protocol.register_lge, protocol.source, protocol.recorded) == (
        False,
        RegistrationSource.OPTION,
        True,
    )
    registered = {p.subject_id: p for p in load_pairs(pred, data)}
    for pair in load_pairs(pred, data, protocol):
        assert pair.registration == [None]
        expected = _crop(aligned[pair.subject_id], pair, 0, pred)
        if geometry is LabelGeometry.LGE:
            assert np.mean(pair.labels_ref[0] == expected) < 0.9  # still 3.6 mm off
        # registration moves the LGE: the two references differ
        assert not np.allclose(pair.lge_ref, registered[pair.subject_id].lge_ref)


def test_evaluation_records_the_reference_registration(case, tmp_path):
    data, pred, _, geometry = case
    result = evaluate(pred, data, tmp_path / "ev")
    saved = json.loads((tmp_path / "ev" / "evaluation.json").read_text())["reference_registration"]
    assert saved["register_lge"] is True and saved["source"] == "predictions"
    assert saved["labels_geometry"] == geometry.value
    assert saved["labels_follow_lge"] is (geometry is LabelGeometry.LGE)
    assert saved["n_slices_registered"] == 2 and saved["outcomes"] == {"applied": 2}
    for row in saved["per_slice"]:
        assert row["applied"] and abs(row["shift_mm"] - 1.5 * np.hypot(*SHIFT_RC)) <= 1.5
        assert row["nmi_after"] > row["nmi_before"]
    csv = (tmp_path / "ev" / "reference_registration.csv").read_text().splitlines()
    assert csv[0].startswith("subject,slice,applied,outcome") and len(csv) == 3
    assert result["protocol"].register_lge


def test_evaluate_cli_option_overrides_the_record(case, tmp_path):
    data, pred, _, _ = case
    out = tmp_path / "ev"
    res = runner.invoke(app, ["evaluate", str(pred), str(data), "--out", str(out), "--no-register-lge"])
    assert res.exit_code == 0, res.output
    assert "not registered" in res.output and "register_lge=True" in res.output  # the note on the mismatch
    saved = json.loads((out / "evaluation.json").read_text())["reference_registration"]
    assert (saved["register_lge"], saved["source"], saved["recorded_by_predictions"]) == (
        False,
        "option",
        True,
    )
    assert saved["n_slices_registered"] == 0 and not (out / "reference_registration.csv").exists()


def test_prediction_folders_without_a_record_are_registered_by_default(case, tmp_path):
    import shutil

    data, pred, _, _ = case
    old = tmp_path / "old"
    shutil.copytree(pred, old)
    for name in ("batch.json", "summary.json"):  # as written before pscgan recorded the protocol
        record = json.loads((old / name).read_text())
        del record["weights"]["register_lge"], record["version"]
        (old / name).write_text(json.dumps(record))
    assert recorded_prediction(old)[0] is None
    protocol = reference_protocol(old, data)
    assert (protocol.register_lge, protocol.source) == (True, RegistrationSource.DEFAULT)
    (old / "batch.json").write_text(json.dumps({"weights": {"register_lge": False}}))
    assert reference_protocol(old, data).source is RegistrationSource.PREDICTIONS
    assert not reference_protocol(old, data).register_lge
