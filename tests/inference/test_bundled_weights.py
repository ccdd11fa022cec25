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


def test_bundled_weights_load_through_the_migration_and_predict_as_before(
    tmp_path, make_ring_subject, caplog
):
    """The bundled weights carry a schema-1 configuration: it is migrated (and says so), and the predictor
    built from its plan prepares and predicts exactly as the fixed options it used before the plan existed."""
    import json
    import logging

    import numpy as np

    from pscgan.data.layout import Provenance, SliceInfo, SliceLevel, SubjectInfo, write_subject
    from pscgan.inference.inputs import discover_inputs, load_input
    from pscgan.inference.predictor import Predictor
    from pscgan.preprocessing.pipeline import PreprocessOptions

    path = default_weights_path()
    assert json.loads(read_weights_metadata(path)["config"])["schema_version"] == 1
    with caplog.at_level(logging.INFO, logger="pscgan.migrations"):
        cascade, cfg = load_weights(path)
    assert "configuration 1 -> 2: preprocessing: filled" in caplog.text
    cine, _, _ = make_ring_subject(3, size=72, n_slices=2, n_phases=20)
    info = SubjectInfo(subject_id="ring", pixel_spacing_mm=(1.5, 1.5), slice_thickness_mm=8.0, n_phases=20,
                       slices=[SliceInfo(index=k, level=SliceLevel.MID) for k in range(2)],
                       provenance=Provenance(source="test", created_by="tests"))
    write_subject(tmp_path, info, cine=cine)
    item = load_input(discover_inputs(tmp_path / "ring")[0])
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
