"""Batch prediction killed and resumed: finished subjects are kept untouched, the rest completed, and no
half-written file is ever visible."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.data.predictions import (
    BATCH_FILE,
    CLINICAL_FILE,
    LGE_FILE,
    NETWORK_FILE,
    OUTPUTS_FILE,
    RECORDS_FILE,
    SEG_FILE,
)
from pscgan.errors import ConfigError, InputError
from pscgan.inference.batch import predict_batch, remove_leftovers
from pscgan.inference.outputs import weights_record

SUBJECT_FILES = {CLINICAL_FILE, LGE_FILE, NETWORK_FILE, OUTPUTS_FILE, RECORDS_FILE, SEG_FILE}
TIMEOUT_S = 180


def _finished(out: Path) -> list[Path]:
    return (
        sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")) if out.is_dir() else []
    )


def _snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    return {str(f.relative_to(out)): (f.stat().st_mtime_ns, f.read_bytes())
            for d in _finished(out) for f in sorted(d.iterdir())}


def _assert_complete(folder: Path) -> None:
    """A visible subject folder holds every result file, each readable to the end."""
    assert {f.name for f in folder.iterdir()} == SUBJECT_FILES, folder
    json.loads((folder / CLINICAL_FILE).read_text())
    json.loads((folder / RECORDS_FILE).read_text())
    for name in (LGE_FILE, SEG_FILE):
        np.asarray(nib.load(str(folder / name)).dataobj)
    with np.load(folder / NETWORK_FILE) as npz:
        [npz[k] for k in npz.files]


def _predict(data: Path, weights: Path, out: Path, *extra: str) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "pscgan",
        "predict",
        str(data),
        "--weights",
        str(weights),
        "--out",
        str(out),
        *extra,
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_resume_removes_leftovers_of_a_killed_batch(tiny_ring_dataset, tiny_weights, tmp_path):
    out = tmp_path / "pred"
    predict_batch([tiny_ring_dataset / "ring_00"], out, weights=tiny_weights)
    (out / ".ring_01.partial").mkdir()
    (out / ".ring_01.partial" / "clinical.json").write_text("{")
    (out / ".summary.k2j3.pscgan-tmp.json").write_text("{")
    (out / ".notes").write_text("the user's own hidden file")
    (out / ".draft.tmp").write_text("the user's own temporary file")      # no pscgan mark: kept
    (out / ".thesis.partial").mkdir()                                     # no subject of this batch: kept
    stamp = (out / "ring_00" / SEG_FILE).stat().st_mtime_ns
    summary = predict_batch([tiny_ring_dataset / "ring_00", tiny_ring_dataset / "ring_01"], out,
                            weights=tiny_weights, resume=True)
    assert summary["kept_from_before"] == ["ring_00"] and summary["predicted"] == ["ring_01"]
    assert (out / "ring_00" / SEG_FILE).stat().st_mtime_ns == stamp
    kept = [".draft.tmp", ".notes", ".pscgan-output", ".thesis.partial"]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == kept
    assert remove_leftovers(out, ["ring_00", "ring_01"]) == []


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_predict_killed_three_times_then_resumed(tiny_ring_dataset, tiny_weights, tmp_path):
    reference = tmp_path / "reference"  # uninterrupted, in a process like the killed ones (same threads)
    uninterrupted = _predict(tiny_ring_dataset, tiny_weights, reference)
    out, rng = tmp_path / "pred", random.Random(3)
    n = len(list(tiny_ring_dataset.glob("ring_*")))
    kept: dict[str, tuple[int, bytes]] = {}
    for round_, target in enumerate(sorted(rng.sample(range(1, n), 3))):
        proc = _predict(tiny_ring_dataset, tiny_weights, out, *(["--resume"] if round_ else []))
        deadline = time.monotonic() + TIMEOUT_S
        # Kill once `target` subjects are done and the next one is being written (or at a random instant).
        while proc.poll() is None and time.monotonic() < deadline:
            if len(_finished(out)) >= target and (any(out.glob(".*.partial")) or rng.random() < 0.02):
                break
            time.sleep(0.002)
        assert proc.poll() is None, f"the batch ended before the kill: {proc.stderr.read().decode()}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(TIMEOUT_S)
        for folder in _finished(out):
            _assert_complete(folder)
        snapshot = _snapshot(out)
        assert {k: v for k, v in snapshot.items() if k in kept} == kept  # earlier subjects untouched
        kept = snapshot
    # Without --resume (or --overwrite) the non-empty folder is refused, and left as it was.
    refused = CliRunner().invoke(app, ["predict", str(tiny_ring_dataset), "--weights", str(tiny_weights),
                                       "--out", str(out)])
    assert refused.exit_code == 2 and "--overwrite" in refused.output and _snapshot(out) == kept
    final = _predict(tiny_ring_dataset, tiny_weights, out, "--resume")
    assert final.wait(TIMEOUT_S) == 0, final.stderr.read().decode()
    assert {k: v for k, v in _snapshot(out).items() if k in kept} == kept
    # nothing hidden is left but the marker that says pscgan owns the folder
    assert not [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".pscgan-output"]
    assert uninterrupted.wait(TIMEOUT_S) == 0, uninterrupted.stderr.read().decode()
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["kept_from_before"]) == sorted({k.split("/")[0] for k in kept})
    assert [p.name for p in _finished(out)] == [p.name for p in _finished(reference)]
    for folder in _finished(out):
        _assert_complete(folder)
        assert (folder / CLINICAL_FILE).read_text() == (reference / folder.name / CLINICAL_FILE).read_text()
        for name in (SEG_FILE, LGE_FILE):
            np.testing.assert_array_equal(np.asarray(nib.load(str(folder / name)).dataobj),
                                          np.asarray(nib.load(str(reference / folder.name / name)).dataobj))


def test_resume_refuses_other_weights_and_changes_nothing(tiny_ring_dataset, tiny_weights, tmp_path):
    import torch

    from pscgan.models.weights import load_weights, save_weights

    cascade, config = load_weights(tiny_weights)
    with torch.no_grad():
        next(cascade.parameters()).add_(0.5)
    other = tmp_path / "other.safetensors"
    save_weights(other, cascade, config)
    out = tmp_path / "pred"
    predict_batch([tiny_ring_dataset / "ring_00"], out, weights=tiny_weights)
    assert (
        json.loads((out / BATCH_FILE).read_text())["weights"]["sha256"]
        == weights_record(tiny_weights)["sha256"]
    )
    # the training protocol of the weights, for `pscgan evaluate` (the tiny preset registers the LGE)
    assert json.loads((out / BATCH_FILE).read_text())["weights"]["register_lge"] is True
    before = _snapshot(out), (out / "summary.json").read_bytes(), sorted(p.name for p in out.iterdir())
    with pytest.raises(ConfigError, match=r"--resume: the finished subjects were predicted with"):
        predict_batch([tiny_ring_dataset / "ring_00", tiny_ring_dataset / "ring_01"], out, weights=other,
                      resume=True)
    assert (
        _snapshot(out),
        (out / "summary.json").read_bytes(),
        sorted(p.name for p in out.iterdir()),
    ) == before
    # The same weights resume; a folder from before batch.json existed is judged by its summary.json.
    (out / BATCH_FILE).unlink()
    with pytest.raises(ConfigError):
        predict_batch([tiny_ring_dataset / "ring_01"], out, weights=other, resume=True)
    summary = predict_batch([tiny_ring_dataset / "ring_00", tiny_ring_dataset / "ring_01"], out,
                            weights=tiny_weights, resume=True)
    assert summary["kept_from_before"] == ["ring_00"] and summary["predicted"] == ["ring_01"]


def test_resume_refuses_an_unreadable_batch_record(tiny_ring_dataset, tiny_weights, tmp_path):
    out = tmp_path / "pred"
    predict_batch([tiny_ring_dataset / "ring_00"], out, weights=tiny_weights)
    (out / BATCH_FILE).write_text("{not json")
    with pytest.raises(InputError, match="cannot tell which weights"):
        predict_batch([tiny_ring_dataset / "ring_00"], out, weights=tiny_weights, resume=True)
