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

from ..json_mutations import MISSING, fields, mutated, value_at

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


def _edits(original):  # noqa: ANN001, ANN202
    """Every field of ``original`` set to each mutation (or removed), and two whole-file replacements."""
    yield "[]"
    yield "[" * 100_000 + "]" * 100_000
    for path in fields(original):
        for mutation in MUTATIONS:
            edited = mutated(original, path, mutation)
            if edited is not None:
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


def _summary(mean: float) -> dict:
    return {"mean": mean, "sd": 0.1, "median": mean, "n": 4, "n_undefined": 1}


def _evaluation() -> dict:
    """An evaluation.json with every value a cross-validation or a run record reads defined."""
    seg_class = {m: _summary(0.5) for m in ("accuracy", "sensitivity", "specificity", "dice")}
    seg_class["hd95_mm"] = _summary(4.0)
    agreement = {"pearson": {"r": 0.8, "p_value": 0.01, "n": 8, "n_excluded": 0},
                 "bland_altman": {"bias": 0.2, "sd": 0.1, "lower": 0.0, "upper": 0.4, "n": 8,
                                  "n_excluded": 0}}
    diagnostic = {"tp": 3, "fp": 1, "tn": 10, "fn": 2, "sensitivity": 0.6, "specificity": 0.9, "ppv": 0.75,
                  "npv": 0.83, "auc": 0.8}
    return {"n_subjects": 2,
            "imaging": {"segmentation": {"per_class": {c: copy.deepcopy(seg_class) for c in
                                                       ("lv_blood_pool", "healthy_myocardium", "scar")},
                                         "overall": copy.deepcopy(seg_class)},
                        "synthesis": {"ssim": _summary(0.6), "psnr_db": _summary(20.0),
                                      "nrmse": _summary(0.3)}},
            "clinical": {"scar_size_slice_cm2": agreement, "scar_volume_ml": copy.deepcopy(agreement),
                         "scar_ratio": copy.deepcopy(agreement), "segment_localisation": diagnostic,
                         "transmurality": copy.deepcopy(diagnostic)},
            "per_subject": [{"subject": "ring_01", "scar_ratio_abs_error": 0.05}]}


def _cv(tmp_path):  # noqa: ANN001, ANN202
    """A finished two-fold cross-validation folder (its runs' records only) and its plan."""
    out = tmp_path / "cv"
    splits = [{"train": ["ring_00"], "validation": [], "test": ["ring_01"]},
              {"train": ["ring_01"], "validation": [], "test": ["ring_00"]}]
    plan = {"format": "pscgan-experiment-plan", "version": 2,
            "request": {"kind": "cv", "data": "ds", "folds": 2, "preset": "tiny", "overrides": [],
                        "budget": None, "validation_fraction": 0.0, "seed": 0},
            "folds": [["ring_01"], ["ring_00"]], "splits": splits, "calibration": {},
            "steps_per_phase": {"pscgan": 1}}
    for i in range(2):
        (out / f"fold{i}" / "evaluation").mkdir(parents=True)
        (out / f"fold{i}" / DONE_FILE).write_text(json.dumps(_record(0, 1.0)))
        (out / f"fold{i}" / "evaluation" / "evaluation.json").write_text(json.dumps(_evaluation()))
    (out / PLAN_FILE).write_text(json.dumps(plan))
    return out, plan


def _refused(fuzz_cases, target, call) -> bool:  # noqa: ANN001
    """``call()`` ends in a result (False) or in one error naming ``target`` (True)."""
    with fuzz_cases.watchdog(f"reading {target.name}"):
        try:
            call()
        except PscganError as exc:
            assert target.name in str(exc) and "\n" not in str(exc), str(exc)
            return True
    return False


def _must_refuse(original, mutation) -> bool:  # noqa: ANN001
    """Whether setting a field holding ``original`` to ``mutation`` can never be read as a value."""
    if mutation is MISSING or (isinstance(mutation, dict) and mutation == {}):
        return True
    if isinstance(mutation, (int, float)) and not isinstance(mutation, bool) and not abs(mutation) < 1e12:
        return True  # NaN, inf, 1e308, 10**40
    if isinstance(mutation, str):  # text where no text belongs
        return not isinstance(original, str)
    if isinstance(mutation, list):
        return not isinstance(original, list)
    return False


def test_every_field_of_a_folds_evaluation(tmp_path, fuzz_cases):
    """Each field of a finished fold's evaluation.json (every one the cross-validation reads) set to NaN,
    inf, 1e308, 10**40, -7, text, null, an array or an object, or removed: the summary is written, or one
    line names the file and the field; a value of the wrong type, a non-finite or removed one is always
    refused, never averaged."""
    from pscgan.experiments.cv import summarise_folds
    from pscgan.experiments.cv_report import write_summary

    out, plan = _cv(tmp_path)
    target = out / "fold1" / "evaluation" / "evaluation.json"
    original = _evaluation()

    def summarise() -> None:
        write_summary(out, summarise_folds(out, read_plan(out / PLAN_FILE)))

    assert not _refused(fuzz_cases, target, summarise)
    for text in ("[]", "[" * 100_000 + "]" * 100_000, "{", "\udcff"):
        target.write_text(text, errors="surrogateescape")
        assert _refused(fuzz_cases, target, summarise)
    n = 0
    for path in list(fields(original)):
        node = value_at(original, path)
        for mutation in MUTATIONS:
            edited = mutated(original, path, mutation)
            if edited is None:
                continue
            target.write_text(json.dumps(edited))
            refused = _refused(fuzz_cases, target, summarise)
            absent_allowed = mutation is MISSING and path[-1] == "scar_ratio_abs_error"  # not defined there
            assert refused or absent_allowed or not _must_refuse(node, mutation), (path, mutation)
            n += 1
    assert n > 1000
    # a value in range of its type but outside its quantity's range
    for path, value in ((("imaging", "segmentation", "overall", "dice", "mean"), 1.5),
                        (("imaging", "segmentation", "overall", "dice", "sd"), -0.1),
                        (("clinical", "scar_ratio", "pearson", "r"), 7.0),
                        (("imaging", "synthesis", "ssim", "n"), -1),
                        (("imaging", "synthesis", "ssim", "mean"), None)):  # a mean of 4 values is not null
        target.write_text(json.dumps(mutated(original, path, value)))
        assert _refused(fuzz_cases, target, summarise), path


def test_every_field_of_a_plans_base_config(tmp_path, fuzz_cases):
    """Each field of the configuration a plan fixes for every later run (``base_config``) set to NaN, inf,
    1e308, 10**40, -7, text, null, an array or an object, true, 1 or "1", or removed: the continued
    experiment gets exactly a configuration, or one line names plan.json and the field; a removed field
    (which would silently become today's default) and a value of another type are always refused."""
    from pscgan.config.presets import get_preset
    from pscgan.experiments.plan import fixed_config

    out = _exp(tmp_path)
    target = out / PLAN_FILE
    config = get_preset("tiny")
    base = json.loads(config.to_json())
    plan = {**PLAN, "version": 2, "base_config": base}

    def continued() -> None:
        opened = open_plan(out, copy.deepcopy(PLAN["request"]), derive=dict)
        assert fixed_config(out, opened, config, [], "tiny").model_dump() == config.model_dump()

    def reads(edited_base) -> bool:  # noqa: ANN001
        target.write_text(json.dumps({**plan, "base_config": edited_base}))
        return _refused(fuzz_cases, target, lambda: fixed_config(
            out, open_plan(out, copy.deepcopy(PLAN["request"]), derive=dict), config, [], "tiny"))

    target.write_text(json.dumps(plan))
    assert not _refused(fuzz_cases, target, continued)
    n = 0
    for path in list(fields(base)):
        node = value_at(base, path)
        for mutation in [*MUTATIONS, True, 1, "1"]:
            edited = mutated(base, path, mutation)
            if edited is None or edited == base:
                continue
            refused = reads(edited)
            wrong_type = (mutation is True and type(node) is not bool) or (
                type(mutation) is int and mutation == 1 and isinstance(node, (bool, str)))
            assert refused or not (_must_refuse(node, mutation) or wrong_type), (path, mutation)
            n += 1
    assert n > 500
    for whole in ("x", [], 5, {"schema_version": "2"}, {"schema_version": 99}):
        assert reads(whole), whole
