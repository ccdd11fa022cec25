"""ONNX export of the cascade: onnxruntime vs PyTorch, metadata, CLI, refusals."""

from __future__ import annotations

import doctest
import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import pscgan
from pscgan.cli.main import app
from pscgan.config.presets import get_preset
from pscgan.config.schema import apply_overrides, config_from_dict
from pscgan.errors import OutputExistsError
from pscgan.inference import onnx_export
from pscgan.inference.onnx_export import ExportError, export_onnx, read_onnx_metadata
from pscgan.models.factory import build_cascade
from pscgan.models.weights import load_weights, read_weights_metadata, save_weights

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

OUTPUTS = ["coarse_mask_logits", "lge", "mask_logits"]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Tests run in parallel workers on few cores: one thread each avoids oversubscription.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _weights(path: Path, preset: str, seed: int = 0, overrides: tuple[str, ...] = ()) -> Path:
    """Random weights of ``preset``; attention gammas start at 0, so set them to make attention count."""
    from pscgan.config.schema import apply_overrides

    cfg = apply_overrides(get_preset(preset), list(overrides))
    torch.manual_seed(seed)
    cascade = build_cascade(cfg)
    with torch.no_grad():
        for name, p in cascade.named_parameters():
            if name.endswith("gamma"):
                p.fill_(0.5)
    save_weights(path, cascade, cfg)
    return path


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory) -> Path:
    return _weights(tmp_path_factory.mktemp("w") / "tiny.safetensors", "tiny")


@pytest.fixture(scope="module")
def tiny_export(tiny_weights, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    return export_onnx(tiny_weights, out)


def _run(*args: str):
    res = CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})
    return res, " ".join(res.output.split())


def test_export_matches_pytorch_at_batch_1_and_3(tiny_export):
    report = tiny_export
    assert report.passed and report.path.is_file() and report.opset == onnx_export.DEFAULT_OPSET
    assert {(c.batch, c.output) for c in report.comparisons} == {(b, o) for b in (1, 3) for o in OUTPUTS}
    for c in report.comparisons:
        assert c.max_abs_diff <= 1e-4 and c.max_abs_value > 0.1  # outputs are not trivially zero
        assert (c.argmax_agreement is None) == (c.output == "lge")
        assert c.argmax_agreement is None or c.argmax_agreement >= 0.999


def test_exported_file_runs_a_batch_it_was_not_checked_on(tiny_export, tiny_weights):
    # Independent of the module's own check: plain onnxruntime on the written file, batch 2.
    session = ort.InferenceSession(str(tiny_export.path), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == "cine" and isinstance(inp.shape[0], str) and inp.shape[1:] == [1, 4, 16, 16]
    assert [o.name for o in session.get_outputs()] == OUTPUTS
    cascade, _ = load_weights(tiny_weights)
    cine = torch.rand(2, 1, 4, 16, 16, generator=torch.Generator().manual_seed(7)) * 2 - 1
    got = session.run(OUTPUTS, {"cine": cine.numpy()})
    with torch.no_grad():
        want = cascade(cine)
    for name, value in zip(OUTPUTS, got, strict=True):
        np.testing.assert_allclose(value, want[name].numpy(), atol=1e-4, rtol=0)


def test_metadata_carries_config_version_and_weights_checksum(tiny_export, tiny_weights):
    meta = read_onnx_metadata(tiny_export.path)
    assert meta["pscgan_version"] == pscgan.__version__ and meta["pscgan_preset"] == "tiny"
    assert config_from_dict(json.loads(meta["pscgan_config"])) == load_weights(tiny_weights)[1]
    assert meta["pscgan_weights_sha256"] == read_weights_metadata(tiny_weights)["sha256"]
    # onnxruntime sees the same properties
    session = ort.InferenceSession(str(tiny_export.path), providers=["CPUExecutionProvider"])
    assert session.get_modelmeta().custom_metadata_map["pscgan_version"] == pscgan.__version__


def test_failed_check_raises_with_numbers_and_writes_nothing(tiny_export, tiny_weights, tmp_path,
                                                              monkeypatch):
    # Reuse the exported graph (skip re-tracing) and make onnxruntime's LGE off by 0.01.
    monkeypatch.setattr(onnx_export, "_export_bytes", lambda *a, **k: tiny_export.path.read_bytes())
    real_runner = onnx_export._onnxruntime_runner

    def skewed_runner(model):
        run = real_runner(model)
        return lambda cine: {k: v + 0.01 if k == "lge" else v for k, v in run(cine).items()}

    monkeypatch.setattr(onnx_export, "_onnxruntime_runner", skewed_runner)
    out = tmp_path / "bad.onnx"
    with pytest.raises(ExportError, match=r"lge at batch 1: max \|diff\| 0\.01") as info:
        export_onnx(tiny_weights, out)
    assert "mask_logits" not in str(info.value)  # only the failing output is listed
    assert list(tmp_path.iterdir()) == []


def test_joint_model_exports_its_two_outputs(tmp_path):
    cfg = apply_overrides(get_preset("tiny"), ["model.progressive=false"])
    save_weights(tmp_path / "joint.safetensors", build_cascade(cfg), cfg)
    report = export_onnx(tmp_path / "joint.safetensors", tmp_path / "joint.onnx")
    assert report.passed and {c.output for c in report.comparisons} == {"mask_logits", "lge"}


def test_existing_output_is_refused_without_overwrite(tiny_weights, tmp_path):
    out = tmp_path / "m.onnx"
    out.write_text("keep")
    with pytest.raises(OutputExistsError):
        export_onnx(tiny_weights, out)
    res, text = _run("export", "--onnx", str(out), "--weights", str(tiny_weights))
    assert res.exit_code == 2 and "--overwrite" in text
    assert out.read_text() == "keep"


def test_cli_overwrites_and_prints_the_comparison_table(tiny_weights, tmp_path):
    out = tmp_path / "m.onnx"
    out.write_text("old")
    res, text = _run("export", "--onnx", str(out), "--weights", str(tiny_weights), "--overwrite")
    assert res.exit_code == 0, res.output
    assert "max |diff|" in text and "argmax agreement" in text and "100.00%" in text
    assert sum(name in text for name in OUTPUTS) == 3 and "wrote" in text
    assert read_onnx_metadata(out)["pscgan_preset"] == "tiny"


def test_cli_fixed_batch_without_check(tiny_weights, tmp_path):
    out = tmp_path / "fixed.onnx"
    res, text = _run("export", "--onnx", str(out), "--weights", str(tiny_weights), "--fixed-batch",
                     "--no-check")
    assert res.exit_code == 0, res.output
    assert "not checked" in text and "max |diff|" not in text and "batch 1" in text
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [1, 1, 4, 16, 16]
    cascade, _ = load_weights(tiny_weights)
    cine = onnx_export.random_cines(1, (4, 16, 16), seed=11)
    with torch.no_grad():
        want = cascade(cine)["mask_logits"].numpy()
    got = session.run(["mask_logits"], {"cine": cine.numpy()})[0]
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_cli_corrupted_weights_exit_2(tiny_weights, tmp_path):
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01 not a weights file" * 10)
    res, text = _run("export", "--onnx", str(tmp_path / "a.onnx"), "--weights", str(garbage))
    assert res.exit_code == 2 and "garbage.safetensors" in text and "safetensors" in text
    flipped = tmp_path / "flipped.safetensors"
    data = bytearray(tiny_weights.read_bytes())
    data[-3] ^= 0xFF  # inside the last tensor's bytes
    flipped.write_bytes(bytes(data))
    res, text = _run("export", "--onnx", str(tmp_path / "b.onnx"), "--weights", str(flipped))
    assert res.exit_code == 2 and "checksum mismatch" in text
    assert not list(tmp_path.glob("*.onnx"))


def test_missing_onnxruntime_tells_how_to_install(tiny_weights, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    res, text = _run("export", "--onnx", str(tmp_path / "m.onnx"), "--weights", str(tiny_weights))
    assert res.exit_code == 2 and 'pip install "pscgan[export]"' in text and "onnxruntime" in text
    assert not (tmp_path / "m.onnx").exists()


def test_refusals_before_exporting(tiny_weights, tmp_path, monkeypatch):
    with pytest.raises(ExportError, match="opset 9"):
        export_onnx(tiny_weights, tmp_path / "m.onnx", opset=9)
    with pytest.raises(ExportError, match="atol"):
        export_onnx(tiny_weights, tmp_path / "m.onnx", atol=-1.0)
    # a model too large for one ONNX file (the paper preset, ~3 GB) is refused with its size
    monkeypatch.setattr(onnx_export, "MAX_WEIGHT_BYTES", 1000)
    with pytest.raises(ExportError, match=r"GiB of weights; one ONNX file holds at most 2 GiB"):
        export_onnx(tiny_weights, tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("module", ["pscgan.inference.onnx_export", "pscgan.cli.export"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "overrides",
    [
        (),  # the preset users deploy: the frame-stack encoder
        # the SCLN encoder with factorised attention (its fused kernel), as the cpu preset ran before
        ("model.encoder=scln", "model.attention=factorised", "model.full_attention_max_positions=1600"),
    ],
    ids=["frame_stack", "scln_factorised"],
)
def test_cpu_preset_exports(tmp_path, overrides):
    # 14-33 s each depending on machine load
    report = export_onnx(
        _weights(tmp_path / "cpu.safetensors", "cpu", overrides=overrides),
        tmp_path / "cpu.onnx",
    )
    assert report.passed, report.comparisons
    assert {c.batch for c in report.comparisons} == {1, 3}
