"""plan.json: continue with the same arguments, refuse other ones, start over on request."""

from __future__ import annotations

import json

import pytest

from pscgan.errors import ConfigError, OutputExistsError
from pscgan.experiments.plan import ENV_FILE, PLAN_FILE, open_plan


def test_new_continue_refuse_overwrite(tmp_path):
    out = tmp_path / "exp"
    calls = []

    def derive():
        calls.append(1)
        return {"split": {"test": ["a"]}}

    plan = open_plan(out, {"table": "table3", "seeds": 2}, derive=derive, environment={"python": "x"})
    assert plan["split"] == {"test": ["a"]} and (out / ENV_FILE).is_file()
    plan["steps_per_phase"]["full"] = 5
    (out / PLAN_FILE).write_text(json.dumps(plan))
    again = open_plan(out, {"table": "table3", "seeds": 2}, derive=derive)
    assert again["steps_per_phase"] == {"full": 5} and len(calls) == 1  # nothing derived again
    with pytest.raises(ConfigError, match="seeds: 2 before, 3 now"):
        open_plan(out, {"table": "table3", "seeds": 3}, derive=derive)
    fresh = open_plan(out, {"table": "table3", "seeds": 3}, derive=derive, overwrite=True)
    assert fresh["steps_per_phase"] == {} and fresh["request"]["seeds"] == 3


def test_folder_with_other_data_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(OutputExistsError):
        open_plan(tmp_path, {"table": "table3"}, derive=dict)
