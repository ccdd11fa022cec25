"""Shared fixtures."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
from pathlib import Path
from types import ModuleType

import pytest

import numpy as np
from hypothesis import HealthCheck, settings

from pscgan.data.layout import (
    DatasetManifest,
    Provenance,
    SliceInfo,
    SliceLevel,
    SubjectInfo,
    make_split,
    write_manifest,
    write_subject,
)

os.environ.setdefault("MPLBACKEND", "Agg")

# Property-based input fuzzing (tests/*/test_fuzz_*.py): reproducible (derandomized, no example database),
# no per-example deadline (file I/O on a shared machine), the counting fixture below is function-scoped on
# purpose, and file bytes are drawn in bulk.
settings.register_profile("fuzz", derandomize=True, database=None, deadline=None, print_blob=False,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                 HealthCheck.data_too_large, HealthCheck.large_base_example])

TESTS_DIR = Path(__file__).resolve().parent
EMIDEC_DIR = TESTS_DIR / "data" / "emidec-samples"


@pytest.fixture(scope="session")
def emidec_dir() -> Path:
    """The two real EMIDEC LGE cases shipped with the tests."""
    assert (EMIDEC_DIR / "samplePositive" / "lge.nii.gz").is_file(), "EMIDEC samples missing from tests/data"
    return EMIDEC_DIR


#: Real data beside the repository (``../shared/data``), when the checkout has it; tests skip without it.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def sunnybrook_dir() -> Path:
    """The two real Sunnybrook cine subjects (labels: blood pool and myocardium, no scar, no LGE)."""
    path = SHARED_DATA / "sunnybrook-dev"
    if not (path / "dataset.json").is_file():
        pytest.skip("real Sunnybrook data not beside this checkout (../shared/data/sunnybrook-dev)")
    return path


def anatomy_only(root: Path, *, annotated: list[str] | None) -> Path:
    """Turn a ring dataset into an anatomy-only one: no LGE, scar relabelled myocardium, and
    ``dataset.json`` ``annotated`` set to ``annotated`` (None: no such field)."""
    import json

    from pscgan.io.nifti import read_nifti, write_nifti

    for folder in sorted(p for p in root.iterdir() if (p / "subject.json").is_file()):
        (folder / "lge.nii.gz").unlink()
        vol = read_nifti(folder / "labels.nii.gz", ndim=3, dtype=None)
        write_nifti(folder / "labels.nii.gz", np.where(vol.array == 3, 2, vol.array).astype(np.uint8),
                    spacing=vol.spacing, affine=vol.affine)
    manifest = json.loads((root / "dataset.json").read_text())
    manifest["annotated"] = annotated
    (root / "dataset.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture(scope="session")
def make_anatomy_only():
    """:func:`anatomy_only`: a copy of a ring dataset made anatomy-only in place."""
    return anatomy_only


@pytest.fixture
def tiny():
    """A fresh ``tiny`` preset (a few thousand parameters, 4 frames of 16x16): safe to modify."""
    from pscgan.config.presets import get_preset

    return get_preset("tiny")


@pytest.fixture
def one_torch_thread():
    """Run the test with one torch thread: the tiny networks gain nothing from a second one, and the
    suite runs with ``-n 2``. Folders of network tests use it through an autouse fixture."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def ring_subject(seed: int, size: int = 72, n_slices: int = 2, n_phases: int = 25, scale: float = 1.0):
    """Arrays (x, y, slice[, time]) of a beating LV ring with a lateral scar, plus noise."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices((size, size))
    cy, cx = size / 2 + rng.uniform(-3, 3) * scale, size / 2 + rng.uniform(-3, 3) * scale
    r = np.hypot(rows - cy, cols - cx) / scale
    cine = np.zeros((size, size, n_slices, n_phases), np.float32)
    labels = np.zeros((size, size, n_slices), np.uint8)
    lge = np.zeros((size, size, n_slices), np.float32)
    for k in range(n_slices):
        for t in range(n_phases):
            endo = 12 - 4 * np.sin(np.pi * t / n_phases) ** 2
            img = np.where(r < endo, 300.0, np.where(r < endo + 6, 100.0, 40.0))
            cine[:, :, k, t] = (img + rng.normal(0, 5, img.shape)).T
        lab = np.where(r < 12, 1, np.where(r < 18, 2, 0)).astype(np.uint8)
        lab[(lab == 2) & (cols > cx + 4)] = 3
        labels[:, :, k] = lab.T
        lge[:, :, k] = np.where(lab == 3, 500.0, np.where(lab == 1, 350.0, 30.0)).T
    return cine, lge, labels


def write_ring_dataset(root, n_subjects: int = 4, **kwargs):
    """A dataset of ring subjects with a seeded 3:1 split (``kwargs`` go to :func:`ring_subject`)."""
    ids = []
    for i in range(n_subjects):
        cine, lge, labels = ring_subject(i, **kwargs)
        sid = f"ring_{i:02d}"
        info = SubjectInfo(subject_id=sid, pixel_spacing_mm=(1.5, 1.5), slice_thickness_mm=8.0,
                           n_phases=cine.shape[3],
                           rr_interval_ms=900.0,
                           slices=[SliceInfo(index=k, level=SliceLevel.MID, rv_insertion_angle_deg=120.0)
                                   for k in range(cine.shape[2])],
                           provenance=Provenance(source="test", created_by="tests"))
        write_subject(root, info, cine=cine, lge=lge, labels=labels)
        ids.append(sid)
    write_manifest(root, DatasetManifest(name="rings", subjects=ids, split=make_split(ids, seed=0)))
    return ids


@pytest.fixture(scope="session")
def make_ring_subject():
    """:func:`ring_subject`, for tests that build their own variant of the ring dataset."""
    return ring_subject


@pytest.fixture
def ring_dataset(tmp_path):
    """Four 72x72 ring subjects (2 slices, 25 phases) in the canonical layout."""
    root = tmp_path / "rings"
    write_ring_dataset(root)
    return root


@pytest.fixture(scope="session")
def tiny_ring_dataset(tmp_path_factory):
    """Eight small ring subjects (24x24, 2 slices, 6 phases) that the ``tiny`` preset trains on.
    Session-scoped and read-only: tests must not modify it."""
    root = tmp_path_factory.mktemp("tiny") / "rings"
    write_ring_dataset(root, n_subjects=8, size=24, n_phases=6, scale=0.35)
    return root


@pytest.fixture(scope="session")
def tiny_weights(tiny_ring_dataset, tmp_path_factory):
    """Weights of the ``tiny`` preset trained for a few steps on the tiny ring dataset (session-wide)."""
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.training.launch import TrainOptions, run_training

    cfg = apply_overrides(get_preset("tiny"), ["train.steps_per_phase=2"])
    run = tmp_path_factory.mktemp("tiny-run") / "run"
    return run_training(TrainOptions(run=run, data=tiny_ring_dataset, config=cfg, progress=False))


class FuzzCases:
    """Runs one generated input case: a reader's result must be a valid volume, its error a PscganError.

    Any other exception fails the test; an example that runs longer than ``watchdog_s`` (a hang, never
    expected: the fuzz inputs are a few kB) fails it too. ``cases`` counts the examples run.
    """

    watchdog_s = 60

    def __init__(self) -> None:
        self.cases = 0

    @contextlib.contextmanager
    def watchdog(self, what: str):  # noqa: ANN201
        """Count one case and fail it if ``what`` has not finished within ``watchdog_s``."""
        def hang(signum, frame):  # noqa: ANN001
            raise AssertionError(f"{what} did not finish within {self.watchdog_s} s")

        self.cases += 1
        previous = signal.signal(signal.SIGALRM, hang)
        signal.alarm(self.watchdog_s)
        try:
            yield
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)

    def run(self, call, source, ndims=(2, 3, 4, 5)):  # noqa: ANN001, ANN201 - a reader call and its input
        """``call()`` -> the :class:`ImageVolume` checked against ``ndims``, or None after a PscganError."""
        from hypothesis import event

        from pscgan.errors import PscganError

        try:
            with self.watchdog(f"reading {source}"):
                result = call()
        except PscganError as err:
            assert err.path is not None and str(err).startswith(str(err.path)) and err.problem, err
            assert Path(source) in (err.path, *err.path.parents), f"error names {err.path}, not {source}"
            # outcome tally, shown by pytest --hypothesis-show-statistics
            event(f"{type(err).__name__}: {' '.join(err.problem.split()[:3])}")
            return None
        assert_valid_volume(result, ndims)
        event("read")
        return result


def assert_valid_volume(vol, ndims=(2, 3, 4, 5)) -> None:  # noqa: ANN001 - an ImageVolume
    """A reader's result: a non-empty real array with finite values, positive spacing, a finite affine."""
    from pscgan.io.image import MAX_ARRAY_BYTES, ImageVolume

    assert isinstance(vol, ImageVolume)
    arr = vol.array
    assert arr.ndim in ndims and arr.size > 0 and arr.nbytes <= MAX_ARRAY_BYTES, arr.shape
    assert arr.dtype.kind in "buif", arr.dtype
    assert np.all(np.isfinite(arr))
    assert len(vol.spacing) == 3 and all(np.isfinite(s) and s > 0 for s in vol.spacing), vol.spacing
    assert np.asarray(vol.affine).shape == (4, 4) and np.all(np.isfinite(vol.affine))


@pytest.fixture
def fuzz_cases(record_property):
    """A :class:`FuzzCases` runner; its case count is reported as ``fuzz_cases`` and summed for the run."""
    runner = FuzzCases()
    yield runner
    record_property("fuzz_cases", runner.cases)


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the number of generated fuzz cases of the run (works under pytest-xdist too)."""
    total = sum(value for reports in terminalreporter.stats.values() for rep in reports
                if getattr(rep, "when", None) == "teardown"
                for name, value in getattr(rep, "user_properties", ()) if name == "fuzz_cases")
    if total:
        terminalreporter.write_line(f"fuzz: {total} generated input cases ran")


@pytest.fixture(scope="session")
def dicom_kit() -> ModuleType:
    """The synthetic DICOM writer of the reader tests (``tests/io/conftest.py``: ``make_dataset``,
    ``slice_positions``), loaded by path once, for tests outside ``tests/io`` that write DICOM input."""
    path = Path(__file__).resolve().parent / "io" / "conftest.py"
    spec = importlib.util.spec_from_file_location("pscgan_tests_dicom_kit", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
