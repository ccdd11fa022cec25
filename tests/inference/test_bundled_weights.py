"""The weights shipped inside the package load (no pickle, checksum verified) and run."""

from __future__ import annotations

import torch

from pscgan.inference.predictor import default_weights_path
from pscgan.models.weights import load_weights, read_weights_metadata


def test_bundled_weights_load_and_run():
    path = default_weights_path()
    assert path.is_file(), "bundled weights missing from the package"
    meta = read_weights_metadata(path)
    assert "training_command" in meta
    cascade, cfg = load_weights(path)
    assert cfg.preset.startswith("cpu")
    with torch.no_grad():
        out = cascade(torch.zeros(1, 1, cfg.model.frames, cfg.model.image_size, cfg.model.image_size))
    assert out["mask_logits"].shape == (1, 4, 64, 64) and out["lge"].shape == (1, 1, 64, 64)


def test_bundled_weights_record_the_protocol_they_were_trained_with():
    """The bundled model was trained with the registration protocol, one-hot masks for the
    discriminators and the phase III warm start; its stored config says so, and prediction folders
    record the registration for ``pscgan evaluate``."""
    import json

    from pscgan.inference.outputs import weights_record

    path = default_weights_path()
    stored = json.loads(read_weights_metadata(path)["config"])
    assert stored["train"]["register_lge"] is True
    assert stored["train"]["warm_start_segmentation"] is True
    assert stored["loss"]["mask_to_discriminator"] == "one_hot"
    _, cfg = load_weights(path)
    assert cfg.train.register_lge is True
    assert weights_record(path)["register_lge"] is True


def _as_schema_1(path, out):
    """The bundled weights as pscgan 0.1.0 before the preprocessing plan stored them: a schema-1 configuration
    without ``preprocessing`` (and without the later ``train.lr_schedule``), checksums valid."""
    import json

    from safetensors.torch import load_file, save_file

    from pscgan.io.weights_digest import metadata_digest

    meta = dict(read_weights_metadata(path))
    config = json.loads(meta["config"])
    config["schema_version"] = 1
    del config["preprocessing"], config["train"]["lr_schedule"]
    meta["config"] = json.dumps(config)
    del meta["metadata_sha256"]
    meta["metadata_sha256"] = metadata_digest(meta)
    save_file(load_file(str(path)), str(out), metadata=meta)
    return out


def test_bundled_weights_carry_todays_configuration(caplog):
    import json
    import logging

    from pscgan.config.schema import SCHEMA_VERSION

    path = default_weights_path()
    assert json.loads(read_weights_metadata(path)["config"])["schema_version"] == SCHEMA_VERSION
    with caplog.at_level(logging.INFO, logger="pscgan.migrations"):
        load_weights(path)
    assert "pscgan.migrations" not in caplog.text  # nothing to migrate, nothing said


def test_weights_of_schema_1_load_through_the_migration_and_predict_as_before(
    tmp_path, make_ring_subject, caplog
):
    """A schema-1 configuration is migrated (and says so), and the predictor built from its plan prepares
    and predicts exactly as the fixed options it used before the plan existed."""
    import logging

    import numpy as np

    from pscgan.data.layout import Provenance, SliceInfo, SliceLevel, SubjectInfo, write_subject
    from pscgan.inference.inputs import discover_inputs, load_input
    from pscgan.inference.predictor import Predictor
    from pscgan.preprocessing.pipeline import PreprocessOptions

    path = _as_schema_1(default_weights_path(), tmp_path / "old.safetensors")
    with caplog.at_level(logging.INFO, logger="pscgan.migrations"):
        cascade, cfg = load_weights(path)
    assert "configuration 1 -> 2: preprocessing: filled" in caplog.text
    assert "configuration 2 -> 3: train.lr_schedule" in caplog.text
    cine, _, _ = make_ring_subject(3, size=72, n_slices=2, n_phases=20)
    info = SubjectInfo(subject_id="ring", pixel_spacing_mm=(1.5, 1.5), slice_thickness_mm=8.0, n_phases=20,
                       slices=[SliceInfo(index=k, level=SliceLevel.MID) for k in range(2)],
                       provenance=Provenance(source="test", created_by="tests"))
    (tmp_path / "data").mkdir()
    write_subject(tmp_path / "data", info, cine=cine)
    item = load_input(discover_inputs(tmp_path / "data" / "ring")[0])
    planned = Predictor(cascade, cfg)
    before = Predictor(cascade, cfg)
    before.options = PreprocessOptions(
        n_phases=cfg.model.frames, crop_size=cfg.model.image_size, localisation="cine"
    )
    assert planned.options == before.options
    a, b = planned.predict(item), before.predict(item)
    assert np.array_equal(a.lge_original, b.lge_original) and np.array_equal(
        a.labels_original, b.labels_original
    )
