"""The registration protocol's preprocessing options, and training caches that never mix protocols."""

from __future__ import annotations

import pytest

from pscgan.data.cache import TrainingCache, ensure_cache, options_key
from pscgan.data.layout import LabelGeometry, read_manifest, write_manifest
from pscgan.data.protocol import preprocess_options, registration_options
from pscgan.preprocessing.pipeline import PreprocessOptions


def _set_geometry(root, geometry):
    write_manifest(root, read_manifest(root).model_copy(update={"labels_geometry": geometry}))


@pytest.mark.parametrize(("geometry", "follow"), [(LabelGeometry.LGE, True), (LabelGeometry.CINE, False)])
def test_labels_follow_the_lge_only_when_drawn_on_it(ring_dataset, geometry, follow):
    _set_geometry(ring_dataset, geometry)
    opts = preprocess_options(ring_dataset, register_lge=True, n_phases=6, crop_size=32)
    assert (opts.register_lge, opts.labels_follow_lge, opts.n_phases, opts.crop_size) == (True, follow, 6, 32)


def test_unregistered_options_do_not_depend_on_the_dataset(ring_dataset):
    """Without registration the label geometry has no effect: the options (and cache key) stay the
    defaults'."""
    _set_geometry(ring_dataset, LabelGeometry.CINE)
    assert preprocess_options(ring_dataset, register_lge=False) == PreprocessOptions()
    assert registration_options(LabelGeometry.CINE, False) == registration_options(LabelGeometry.LGE, False)


def test_cache_key_separates_protocols():
    keys = {options_key(PreprocessOptions(**registration_options(g, r)))
            for g in LabelGeometry for r in (False, True)}
    assert len(keys) == 3  # unregistered (one key whatever the geometry), registered with and without labels


def test_registered_and_unregistered_caches_never_mix(ring_dataset):
    plain = ensure_cache(ring_dataset, preprocess_options(ring_dataset, register_lge=False, n_phases=6))
    registered = ensure_cache(ring_dataset, preprocess_options(ring_dataset, register_lge=True, n_phases=6))
    assert plain != registered and plain.is_file() and registered.is_file()
    for path, flag in ((plain, False), (registered, True)):
        cache = TrainingCache(path)
        assert cache.options["register_lge"] is flag
        assert all((r["registration"] is not None) is flag for r in cache.records())
    outcomes = {r["registration"]["outcome"] for r in TrainingCache(registered).records()}
    assert outcomes <= {"applied", "no_improvement"}  # ring LGE and cine are aligned: nothing fails


def test_a_dataset_without_a_manifest_gets_options_too(ring_dataset):
    (ring_dataset / "dataset.json").unlink()
    assert preprocess_options(ring_dataset, register_lge=True).labels_follow_lge  # provenance "test": lge
