"""Baseline weights files: round trip, and refusal of wrong-kind, foreign and corrupted files."""

from __future__ import annotations

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from pscgan.baselines.config import baseline_config
from pscgan.baselines.networks import build_network
from pscgan.baselines.predict import predict_baseline
from pscgan.baselines.weights import load_baseline_weights, read_baseline_metadata, save_baseline_weights
from pscgan.errors import InputError


def _saved(tmp_path, kind="monai_unet"):
    cfg = baseline_config(kind, "tiny")
    torch.manual_seed(1)
    net = build_network(cfg)
    path = tmp_path / f"{kind}.safetensors"
    save_baseline_weights(path, net, cfg)
    return path, net, cfg


def test_round_trip_restores_network_and_configuration(tmp_path):
    path, net, cfg = _saved(tmp_path)
    loaded, cfg2 = load_baseline_weights(path, kind="monai_unet")
    assert cfg2 == cfg
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    assert read_baseline_metadata(path)["kind"] == "monai_unet"


def test_wrong_kind_is_refused(tmp_path, tiny_ring_dataset):
    path, _, _ = _saved(tmp_path, "scar_unet3d")
    with pytest.raises(InputError, match="holds 'scar_unet3d' weights, not 'pix2pix'"):
        load_baseline_weights(path, kind="pix2pix")
    with pytest.raises(InputError, match="not 'monai_unet'"):
        predict_baseline(path, tiny_ring_dataset, tmp_path / "pred", kind="monai_unet")
    assert not (tmp_path / "pred").exists()  # refused before anything was written


def test_pscgan_cascade_weights_are_not_taken_for_a_baseline(tmp_path):
    from pscgan.config.presets import get_preset
    from pscgan.models.factory import build_cascade
    from pscgan.models.weights import load_weights, save_weights

    cascade_file = tmp_path / "cascade.safetensors"
    save_weights(cascade_file, build_cascade(get_preset("tiny")), get_preset("tiny"))
    with pytest.raises(InputError, match="PSCGAN cascade weights"):
        load_baseline_weights(cascade_file)
    baseline_file, _, _ = _saved(tmp_path)
    with pytest.raises(InputError, match="not a pscgan cascade weights file"):
        load_weights(baseline_file)  # and the other way round


def test_corrupted_tensors_are_refused(tmp_path):
    path, _, _ = _saved(tmp_path)
    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata()
    tensors = load_file(str(path))
    first = sorted(tensors)[0]
    tensors[first] = tensors[first] + 1
    save_file(tensors, str(path), metadata=meta)
    with pytest.raises(InputError, match="checksum mismatch"):
        load_baseline_weights(path)


def test_a_header_claiming_another_kind_is_refused(tmp_path):
    """Relabelling a file's kind and configuration does not make its tensors fit another network."""
    path, _, _ = _saved(tmp_path, "monai_unet")
    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata()
    meta["kind"] = "scar_unet3d"
    meta["config"] = baseline_config("scar_unet3d", "tiny").model_dump_json()
    save_file(load_file(str(path)), str(path), metadata=meta)
    with pytest.raises(InputError, match="do not fit the scar_unet3d network"):
        load_baseline_weights(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_baseline_weights(tmp_path / "nope.safetensors")


def test_a_stored_config_without_register_lge_means_unregistered():
    """Baseline weights of version 1 without the field were trained on unregistered LGE
    (:mod:`pscgan.migrations`)."""
    from pscgan.baselines.config import baseline_config_from_dict

    cfg = baseline_config("monai_unet", "tiny")
    assert cfg.register_lge is True
    data = cfg.model_dump(mode="json")
    del data["register_lge"], data["schema_version"]
    assert baseline_config_from_dict(data).register_lge is False
