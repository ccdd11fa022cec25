"""Building the training cache from a dataset folder, and the `pscgan data` commands."""

from __future__ import annotations

import os

import numpy as np
import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.data.cache import TrainingCache, build_cache
from pscgan.errors import InputError, OutputExistsError

runner = CliRunner()


def test_build_cache_packs_every_slice(ring_dataset):
    path = build_cache(ring_dataset)
    cache = TrainingCache(path)
    assert len(cache) == 8
    s = cache[3]
    assert s["cine"].shape == (25, 64, 64) and s["cine"].dtype == np.float32
    assert -1.0 <= s["cine"].min() and s["cine"].max() <= 1.0
    assert s["lge"].shape == (64, 64) and set(np.unique(s["labels"])) == {0, 1, 2, 3}
    assert s["spacing_mm"] == pytest.approx((1.5, 1.5))
    assert s["level"] == "mid" and s["rv_insertion_angle_deg"] == 120.0
    assert cache.indices_of(["ring_01"]) == [2, 3]
    assert len(cache.records()) == 8
    assert cache.is_current(ring_dataset)


def test_cache_detects_changed_sources(ring_dataset):
    cache = TrainingCache(build_cache(ring_dataset))
    f = ring_dataset / "ring_00" / "lge.nii.gz"
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert not cache.is_current(ring_dataset)


def test_cache_refuses_overwrite_and_unknown_subjects(ring_dataset):
    path = build_cache(ring_dataset, subjects=["ring_00"])
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="--overwrite"):
        build_cache(ring_dataset)
    assert path.read_bytes() == before
    with pytest.raises(InputError, match="ghost"):
        build_cache(ring_dataset, ring_dataset / "other.safetensors", subjects=["ghost"])


def test_cli_check_and_cache(ring_dataset):
    res = runner.invoke(app, ["data", "check", str(ring_dataset)])
    assert res.exit_code == 0, res.output
    assert "4 subjects, 8 slices, no problems" in res.output
    res = runner.invoke(app, ["data", "cache", str(ring_dataset)])
    assert res.exit_code == 0, res.output
    assert "8 slices" in res.output


def test_cli_check_lists_problems_per_subject(ring_dataset):
    (ring_dataset / "ring_01" / "labels.nii.gz").unlink()
    (ring_dataset / "ring_02" / "cine.nii.gz").write_bytes(b"garbage")
    res = runner.invoke(app, ["data", "check", str(ring_dataset)])
    assert res.exit_code == 1
    assert "ring_01" in res.output and "ring_02" in res.output and "ring_00" not in res.output


def test_ensure_cache_reuses_and_rebuilds(ring_dataset):
    from pscgan.data.cache import ensure_cache
    from pscgan.preprocessing.pipeline import PreprocessOptions

    opts = PreprocessOptions()
    p1 = ensure_cache(ring_dataset, opts)
    m1 = p1.stat().st_mtime_ns
    assert ensure_cache(ring_dataset, opts) == p1 and p1.stat().st_mtime_ns == m1
    f = ring_dataset / "ring_00" / "cine.nii.gz"
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    assert ensure_cache(ring_dataset, opts) == p1 and p1.stat().st_mtime_ns != m1
    p2 = ensure_cache(ring_dataset, PreprocessOptions(crop_size=32))
    assert p2 != p1 and TrainingCache(p2)[0]["cine"].shape == (25, 32, 32)


@pytest.mark.parametrize(("flag", "registered"), [([], True), (["--no-register-lge"], False)])
def test_cli_cache_registers_the_lge_unless_asked_not_to(ring_dataset, flag, registered):
    res = runner.invoke(app, ["data", "cache", str(ring_dataset), "--phases", "6", *flag])
    assert res.exit_code == 0, res.output
    cache = TrainingCache(ring_dataset / "pscgan_cache.safetensors")
    assert cache.options["register_lge"] is registered
    assert all((r["registration"] is not None) is registered for r in cache.records())
