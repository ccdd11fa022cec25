"""Weights, checkpoints and prediction arrays never unpickle anything, and corruption is detected.

The crafted files carry a live pickle payload: unpickling it (as ``torch.load(weights_only=False)`` or
``pickle.load`` would) writes a marker file. The control test proves the payload works; every pscgan
loader must refuse the file with an :class:`~pscgan.errors.InputError` and leave no marker behind.
"""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.config.presets import get_preset
from pscgan.errors import InputError
from pscgan.models.factory import build_cascade
from pscgan.models.weights import load_weights, read_weights_metadata, save_weights
from pscgan.training.checkpoint import _meta_digest, load_checkpoint, save_checkpoint, sha256_file


class _Payload:
    """Unpickling this runs ``exec``: it writes ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - the pickle protocol
        return exec, (f"open({str(self.marker)!r}, 'w').write('code ran')",)


def _raw_pickle(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps({"weights": _Payload(marker)}))
    return path


def _torch_pickle(path: Path, marker: Path) -> Path:
    torch.save({"state_dict": {"w": torch.zeros(2)}, "extra": _Payload(marker)}, path)
    return path


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    cfg = get_preset("tiny")
    path = tmp_path / "weights.safetensors"
    save_weights(path, build_cascade(cfg), cfg)
    return path


@pytest.mark.parametrize("make", [_raw_pickle, _torch_pickle])
def test_the_payloads_are_live(tmp_path: Path, make) -> None:
    """Control: an unsafe loader does run the payload, so the refusals below mean something."""
    marker = tmp_path / "marker"
    path = make(tmp_path / "evil.bin", marker)
    if make is _raw_pickle:
        pickle.loads(path.read_bytes())
    else:
        torch.load(path, weights_only=False)
    assert marker.read_text() == "code ran"


@pytest.mark.parametrize("make", [_raw_pickle, _torch_pickle])
@pytest.mark.parametrize("name", ["model.safetensors", "model.pt"])
def test_pickled_weights_are_refused(tmp_path: Path, make, name: str) -> None:
    marker = tmp_path / "marker"
    path = make(tmp_path / name, marker)
    with pytest.raises(InputError, match="not a readable safetensors weights file"):
        load_weights(path)
    result = CliRunner().invoke(app, ["predict", str(tmp_path / "data"), "--weights", str(path), "--out",
                                      str(tmp_path / "out")])
    assert result.exit_code == 2 and "safetensors" in result.output
    assert not marker.exists()


@pytest.mark.parametrize("which", ["weights.safetensors", "state.safetensors"])
def test_pickled_checkpoint_is_refused_even_with_a_matching_checksum(tmp_path: Path, which: str) -> None:
    folder = save_checkpoint(tmp_path / "run", "step_00000001", modules={"g": torch.nn.Linear(2, 2)},
                             state={"step": 1, "lr": torch.tensor(1e-3)})
    marker = tmp_path / "marker"
    _torch_pickle(folder / which, marker)
    meta = json.loads((folder / "state.json").read_text())
    meta["sha256"][which] = sha256_file(folder / which)  # whoever swapped the file updated the checksum too
    meta["meta_sha256"] = _meta_digest(meta)  # a forger recomputes every checksum: deeper checks must hold
    (folder / "state.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="unreadable"):
        load_checkpoint(tmp_path / "run")
    assert not marker.exists()


def test_pickled_prediction_arrays_are_refused_by_the_report(tmp_path: Path) -> None:
    """``network.npz`` of a prediction folder is opened with ``allow_pickle=False``."""
    from pscgan.data.predictions import CLINICAL_FILE, NETWORK_FILE, SEG_FILE
    from pscgan.report.build import build_reports

    marker = tmp_path / "marker"
    subject = tmp_path / "pred" / "s01"
    subject.mkdir(parents=True)
    (subject / CLINICAL_FILE).write_text(json.dumps({"slices": []}))
    (subject / SEG_FILE).write_bytes(b"")
    objects = np.empty(1, dtype=object)
    objects[0] = _Payload(marker)
    np.savez(subject / NETWORK_FILE, cine=objects, lge_synthetic=objects, segmentation=objects,
             spacing_mm=objects)
    with pytest.raises(InputError, match="pickled data is never loaded"):
        build_reports(tmp_path / "pred", None, tmp_path / "report")
    assert not marker.exists()


def _flip(path: Path, offset: int) -> Path:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    bad = path.with_name(f"flipped-{path.name}")
    bad.write_bytes(bytes(data))
    return bad


def test_a_flipped_tensor_byte_is_caught_by_the_checksum(weights: Path) -> None:
    bad = _flip(weights, weights.stat().st_size - 3)
    with pytest.raises(InputError, match="checksum mismatch: the weights file is corrupted"):
        load_weights(bad)


def test_a_flipped_configuration_digit_is_caught_by_the_checksum(weights: Path) -> None:
    """A digit of the configuration changed by one bit still parses and still fits the tensors."""
    data = weights.read_bytes()
    (header_size,) = struct.unpack("<Q", data[:8])
    header = data[8:8 + header_size]
    offset = 8 + header.index(b'\\"dilations\\":[1,1,2,4,6,8]') + len(b'\\"dilations\\":[1,1,2,4,6,')
    assert data[offset:offset + 1] == b"8"
    bad = _flip(weights, offset)  # 8 -> 9: another dilation, same parameter shapes
    with pytest.raises(InputError, match="configuration is corrupted"):
        read_weights_metadata(bad)
    with pytest.raises(InputError, match="configuration is corrupted"):
        load_weights(bad)


def test_a_flipped_checkpoint_byte_is_caught_by_the_checksum(tmp_path: Path) -> None:
    folder = save_checkpoint(tmp_path / "run", "step_00000001", modules={"g": torch.nn.Linear(4, 4)},
                             state={"step": 1})
    target = folder / "weights.safetensors"
    data = bytearray(target.read_bytes())
    data[-2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(InputError, match="checksum mismatch") as info:
        load_checkpoint(tmp_path / "run")
    assert "weights.safetensors" in str(info.value)


def test_checkpoint_metadata_cannot_point_outside_the_checkpoint(tmp_path: Path) -> None:
    run = tmp_path / "run"
    folder = save_checkpoint(run, "step_00000001", modules={"g": torch.nn.Linear(2, 2)}, state={"step": 1})
    meta = json.loads((folder / "state.json").read_text())
    meta["sha256"]["/dev/zero"] = "0" * 64  # would be read forever
    meta["meta_sha256"] = _meta_digest(meta)  # a forger recomputes every checksum: deeper checks must hold
    (folder / "state.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="lists the wrong files"):
        load_checkpoint(folder)
    (run / "checkpoints" / "latest.json").write_text(json.dumps({"name": "../../elsewhere"}))
    with pytest.raises(InputError, match="not a folder name"):
        load_checkpoint(run)
