"""An experiment folder continued by repeating its command is read as hostile input (issue 19): every field
of a finished run's ``done.json`` and of the experiment's ``plan.json``, set to a value of another type, a
NaN, a number too large to sum or removed, ends in the table or in one error naming the file and the field;
never in a traceback inside the statistics. Generated cases are counted in the test summary."""

from __future__ import annotations

import copy
import json

import pytest

from pscgan.errors import PscganError
from pscgan.experiments.metrics import RUN_METRICS, SUBJECT_METRICS
from pscgan.experiments.plan import PLAN_FILE, open_plan, read_plan
from pscgan.experiments.run import DONE_FILE, TIMING_FILE, read_done
from pscgan.experiments.runner import collect_results
from pscgan.experiments.stats import compare_variants
from pscgan.experiments.variants import ExperimentTable

MISSING = object()
MUTATIONS = [float("nan"), float("inf"), 1e308, 10**40, -7, "x", None, [], {}, MISSING]
SUBJECTS = ["ring_01", "ring_04"]


def _record(seed: int, scale: float) -> dict:
    metrics = dict.fromkeys(RUN_METRICS, 0.5 * scale) | {"ssim": None}
    subjects = {s: dict.fromkeys(SUBJECT_METRICS, 0.4 * scale + 0.1 * i) for i, s in enumerate(SUBJECTS)}
    return {"seed": seed, "baseline": None, "steps_per_phase": 1, "steps_trained": 3, "training_seconds": 1.5,
            "seconds_per_step": 0.5, "test_subjects": SUBJECTS, "metrics": metrics, "subjects": subjects}


PLAN = {"format": "pscgan-experiment-plan", "version": 1,
        "request": {"kind": "experiment", "table": "table3", "data": "ds", "preset": "tiny", "overrides": [],
                    "seeds": 1, "budget": {"kind": "steps", "value": 1}, "validation_fraction": 0.1},
        "split": {"train": ["ring_00", "ring_02"], "validation": ["ring_03"], "test": SUBJECTS},
        "variants": [{"name": "full", "label": "PSCGAN", "overrides": [], "baseline": None, "note": ""},
                     {"name": "progressive_off", "label": "no progression",
                      "overrides": ["model.progressive=false"], "baseline": None, "note": ""}],
        "seed_values": [0], "calibration": {"full": {"seconds_per_iteration": {"coarse": 0.1},
                                                     "seconds_per_step_all_phases": 0.1,
                                                     "load_average_1min": 0.5, "cpu_count": 2}},
        "steps_per_phase": {"full": 1, "progressive_off": 1}}


def _fields(value, path=()):  # noqa: ANN001, ANN202
    if path:
        yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _fields(inner, (*path, key))
    elif isinstance(value, list) and value:
        yield from _fields(value[0], (*path, 0))


def _edits(original):  # noqa: ANN001, ANN202
    """Every field of ``original`` set to each mutation (or removed), and two whole-file replacements."""
    yield "[]"
    yield "[" * 100_000 + "]" * 100_000
    for path in _fields(original):
        for mutation in MUTATIONS:
            if mutation is MISSING and isinstance(path[-1], int):
                continue
            edited = copy.deepcopy(original)
            node = edited
            for key in path[:-1]:
                node = node[key]
            if mutation is MISSING:
                del node[path[-1]]
            else:
                node[path[-1]] = mutation
            yield json.dumps(edited)


def _exp(tmp_path):  # noqa: ANN001, ANN202
    out = tmp_path / "exp"
    for name, scale in (("full", 1.0), ("progressive_off", 0.9)):
        (out / name / "seed0").mkdir(parents=True)
        (out / name / "seed0" / DONE_FILE).write_text(json.dumps(_record(0, scale)))
    (out / PLAN_FILE).write_text(json.dumps(PLAN))
    return out


def _cleanly(fuzz_cases, target, call):  # noqa: ANN001, ANN202
    with fuzz_cases.watchdog(f"reading {target.name}"):
        try:
            call()
        except PscganError as exc:
            assert target.name in str(exc) and "\n" not in str(exc), str(exc)


def test_every_field_of_a_finished_runs_record(tmp_path, fuzz_cases):
    out = _exp(tmp_path)
    target = out / "progressive_off" / "seed0" / DONE_FILE
    reference = read_done(out / "full" / "seed0")

    def tabulate() -> None:
        record = read_done(target.parent)
        compare_variants({"full": [reference], "other": [record]}, "full", RUN_METRICS, SUBJECT_METRICS)
        collect_results(out, read_plan(out / PLAN_FILE), ExperimentTable.TABLE3, "tiny")

    n = 0
    for text in _edits(_record(0, 0.9)):
        target.write_text(text)
        _cleanly(fuzz_cases, target, tabulate)
        n += 1
    assert n > 100


def test_every_field_of_an_experiment_plan(tmp_path, fuzz_cases):
    out = _exp(tmp_path)
    target = out / PLAN_FILE

    def tabulate() -> None:  # as a continued experiment does: its own request, then the table
        plan = open_plan(out, copy.deepcopy(PLAN["request"]), derive=dict)
        collect_results(out, plan, ExperimentTable.TABLE3, "tiny")

    n = 0
    for text in _edits(PLAN):
        target.write_text(text)
        _cleanly(fuzz_cases, target, tabulate)
        n += 1
    assert n > 100


@pytest.mark.parametrize("content", ["[]", '{"training_seconds": "x", "sessions": 1}', "{" * 5000,
                                     '{"training_seconds": NaN, "sessions": 1}'])
def test_a_broken_timing_record_is_one_line(tmp_path, content, fuzz_cases):
    from pscgan.experiments.run import _read_timing

    (tmp_path / TIMING_FILE).write_text(content)
    with fuzz_cases.watchdog("timing"), pytest.raises(PscganError, match=TIMING_FILE):
        _read_timing(tmp_path / TIMING_FILE)
