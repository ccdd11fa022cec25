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
