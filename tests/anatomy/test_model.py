"""Anatomy weights: saved with config, training record and licence; checked on load; the shipped ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from pscgan.anatomy.model import AnatomyModel, default_anatomy_weights_path, save_anatomy_weights
from pscgan.anatomy.network import AnatomyConfig, build_network
from pscgan.errors import InputError


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    cfg = AnatomyConfig.tiny()
    path = tmp_path / "a.safetensors"
    save_anatomy_weights(path, build_network(cfg), cfg, training={"data": "test"}, licence="test licence")
    return path


def test_round_trip_keeps_config_record_and_licence(weights: Path) -> None:
    model = AnatomyModel.from_weights(weights)
    assert model.config == AnatomyConfig.tiny()
    assert model.metadata["licence"] == "test licence"
    assert json.loads(model.metadata["training"]) == {"data": "test"}
    probs = model.segment_stack(np.random.default_rng(0).random((5, 3, 30, 20)), (2.0, 2.0))
    assert probs.shape == (3, 3, 30, 20)
    assert np.allclose(probs.sum(1), 1.0, atol=1e-4)


def test_edited_tensors_or_metadata_are_refused(weights: Path, tmp_path: Path) -> None:
    from safetensors import safe_open

    with safe_open(str(weights), framework="pt") as fh:
        meta = dict(fh.metadata())
    tensors = load_file(str(weights))
    key = sorted(tensors)[0]
    tensors[key] = tensors[key] + 1
    save_file(tensors, str(tmp_path / "t.safetensors"), metadata=meta)
    with pytest.raises(InputError, match="checksum"):
        AnatomyModel.from_weights(tmp_path / "t.safetensors")
    save_file(load_file(str(weights)), str(tmp_path / "m.safetensors"), metadata={**meta, "licence": "MIT"})
    with pytest.raises(InputError, match="metadata"):
        AnatomyModel.from_weights(tmp_path / "m.safetensors")


def test_cascade_weights_or_junk_are_not_anatomy_weights(tmp_path: Path) -> None:
    from pscgan.inference.predictor import default_weights_path

    with pytest.raises(InputError, match="not anatomy-network weights"):
        AnatomyModel.from_weights(default_weights_path())
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(InputError, match="junk.safetensors"):
        AnatomyModel.from_weights(tmp_path / "junk.safetensors")


def test_the_shipped_weights_load_and_carry_the_acdc_licence() -> None:
    path = default_anatomy_weights_path()
    assert path is not None
    model = AnatomyModel.from_weights(path)
    assert "CC BY-NC-SA 4.0" in model.metadata["licence"] and "ACDC" in model.metadata["licence"]
    assert (path.parent / "pscgan-anatomy-acdc.LICENCE.md").is_file()
