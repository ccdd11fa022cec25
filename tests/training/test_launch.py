from __future__ import annotations

import json

import pytest

from pscgan.errors import ConfigError, InputError
from pscgan.training.launch import _check_world_size


def test_resume_with_another_number_of_processes_is_refused(tmp_path):
    env = tmp_path / "environment.json"
    env.write_text(json.dumps({"world_size": 2}))
    _check_world_size(env, 2)
    with pytest.raises(ConfigError, match="2 process"):
        _check_world_size(env, 1)


def test_a_run_without_environment_or_with_a_broken_one(tmp_path):
    _check_world_size(tmp_path / "missing.json", 4)  # older runs: nothing to compare
    env = tmp_path / "environment.json"
    env.write_text("{not json")
    with pytest.raises(InputError, match="environment.json: not valid JSON"):
        _check_world_size(env, 1)
    env.write_text('{"world_size": "2"}')
    with pytest.raises(InputError, match="not a run environment"):
        _check_world_size(env, 1)


class _CacheAsked(Exception):
    """Stops a run once it has asked for its training cache."""


@pytest.mark.parametrize(("register", "geometry", "follow"), [(True, "cine", False), (True, "lge", True),
                                                               (False, "cine", True)])
def test_training_targets_follow_the_config_and_the_dataset(ring_dataset, tmp_path, monkeypatch, register,
                                                            geometry, follow):
    """``train.register_lge`` registers the targets; the labels move with them only when drawn on the LGE."""
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.data.layout import LabelGeometry, read_manifest, write_manifest
    from pscgan.training.launch import TrainOptions, run_training

    manifest = read_manifest(ring_dataset).model_copy(update={"labels_geometry": LabelGeometry(geometry)})
    write_manifest(ring_dataset, manifest)
    asked = []

    def ensure_cache(data, options, **kwargs):
        asked.append(options)
        raise _CacheAsked

    monkeypatch.setattr("pscgan.data.cache.ensure_cache", ensure_cache)
    config = apply_overrides(get_preset("tiny"), [f"train.register_lge={str(register).lower()}"])
    with pytest.raises(_CacheAsked):
        run_training(TrainOptions(run=tmp_path / "run", data=ring_dataset, config=config, progress=False))
    assert (asked[0].register_lge, asked[0].labels_follow_lge) == (register, follow)
    assert (asked[0].n_phases, asked[0].crop_size) == (config.model.frames, config.model.image_size)
