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
        return {"split": {"train": ["b"], "validation": [], "test": ["a"]}}

    plan = open_plan(out, {"table": "table3", "seeds": 2}, derive=derive, environment={"python": "x"})
    assert plan["split"]["test"] == ["a"] and (out / ENV_FILE).is_file()
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


def test_fixed_config_is_the_recorded_one_or_checked_against_the_runs(tmp_path):
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.experiments.plan import fixed_config

    tiny = get_preset("tiny")
    changed = apply_overrides(tiny, ["train.lr=0.5"])
    out = tmp_path / "exp"
    plan = open_plan(out, {"kind": "cv"}, derive=lambda: {"base_config": json.loads(tiny.to_json())})
    assert fixed_config(out, plan, changed, [], "tiny") == tiny  # recorded: the current preset is ignored
    # a plan from before the field: the run trained with the preset then is the judge
    old = open_plan(tmp_path / "old", {"kind": "cv"}, derive=dict)
    run = tmp_path / "old" / "fold0"
    (run / "train").mkdir(parents=True)
    apply_overrides(tiny, ["train.seed=3", "train.steps_per_phase=7"]).save(run / "train" / "config.json")
    with pytest.raises(ConfigError, match="presets changed") as err:
        fixed_config(tmp_path / "old", old, changed, [(run, 3)], "tiny")
    assert str(run / "train" / "config.json") in str(err.value)
    assert fixed_config(tmp_path / "old", old, tiny, [(run, 3)], "tiny") == tiny
    saved = json.loads((tmp_path / "old" / "plan.json").read_text())
    assert saved["base_config"] == json.loads(tiny.to_json())
