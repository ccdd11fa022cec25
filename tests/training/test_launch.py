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
    with pytest.raises(InputError, match="unreadable"):
        _check_world_size(env, 1)
