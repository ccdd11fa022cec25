"""The weights shipped inside the package load (no pickle, checksum verified) and run."""

from __future__ import annotations

import torch

from pscgan.inference.predictor import default_weights_path
from pscgan.inference.weights import load_weights, read_weights_metadata


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


def test_bundled_weights_say_they_were_trained_on_unregistered_lge():
    """The bundled file predates ``train.register_lge``: its stored config lacks the field, which reads as
    False (what it was trained with), and prediction folders record that for ``pscgan evaluate``."""
    import json

    from pscgan.inference.outputs import weights_record

    path = default_weights_path()
    assert "register_lge" not in json.loads(read_weights_metadata(path)["config"])["train"]
    _, cfg = load_weights(path)
    assert cfg.train.register_lge is False
    assert weights_record(path)["register_lge"] is False
