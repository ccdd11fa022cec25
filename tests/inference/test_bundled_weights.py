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
