"""One resumable experiment run: train, predict the held-out subjects, evaluate, mark done.

A run folder holds::

    RUN/
      train/                 the training run (pscgan train layout, or the baseline's own)
      prediction/            predictions of the run's test subjects (pscgan predict layout)
      evaluation/            evaluation.json and the Table 1/2 files (pscgan evaluate)
      subject_metrics.json   per test subject metrics (for paired tests)
      timing.json            training wall-clock seconds, summed over sittings (PSCGAN runs:
                             from train.log, so a killed sitting counts too)
      adopted.json           only in a run whose training was adopted from a pscgan train run folder
      done.json              written last; a run with done.json is never repeated

Every stage resumes: training continues from its last checkpoint, prediction keeps the subjects
already written, evaluation is cheap and simply redone.

Example:
    >>> # record = execute_run(RunSpec(folder, data, split, config=cfg, steps_per_phase=100, seed=0))
    >>> # record["metrics"]["dice_overall"]
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pscgan.config.schema import PscganConfig
from pscgan.errors import InputError
from pscgan.io.atomic import safe_child, write_json_atomic
from pscgan.io.jsonfile import read_json

DONE_FILE = "done.json"
TIMING_FILE = "timing.json"
SUBJECT_METRICS_FILE = "subject_metrics.json"
#: Names the training run folder a run adopted as its training (``pscgan experiment --reuse-from``).
ADOPTED_FILE = "adopted.json"


@dataclass(frozen=True)
class RunSpec:
    """What one run trains and evaluates.

    Attributes:
        folder: the run folder.
        data: dataset folder (canonical layout).
        split: subject ids per part (``train``, ``validation``, ``test``); ``test`` is evaluated.
        config: the PSCGAN configuration (``None`` for a baseline).
        baseline: baseline kind of :mod:`pscgan.baselines` (``None`` for PSCGAN).
        steps_per_phase: generator steps per phase (a baseline trains ``steps_per_phase * phases``).
        phases: phases of the reference the baseline's step count is matched to.
        seed: the run's seed.
        preset: preset whose input geometry a baseline uses (frames, crop size; ``tiny`` also picks
            test-sized baseline networks).
        reference: the full model's configuration; a baseline takes its data protocol
            (``train.register_lge``), input plan (``preprocessing``), augmentation
            (``train.dihedral_augmentation``, ``train.ed_shift_augmentation``) and thread count
            (``train.num_threads``) from it, so that
            every variant of a table trains on the same data, augmented alike, with the same CPU threads.
    """

    folder: Path
    data: Path
    split: dict[str, list[str]]
    config: PscganConfig | None = None
    baseline: str | None = None
    steps_per_phase: int = 1
    phases: int = 1
    seed: int = 0
    preset: str = "cpu"
    reference: PscganConfig | None = None


def read_done(folder: Path) -> dict[str, Any] | None:
    """The ``done.json`` record of a finished run, or ``None``."""
    from pscgan.experiments.run_record import check_done_record

    path = Path(folder) / DONE_FILE
    if not path.is_file():
        return None
    return check_done_record(path, read_json(path, expect=dict, what="finished-run record"))


def execute_run(
    spec: RunSpec, *, device: str | None = None, stop_after: int | None = None
) -> dict[str, Any] | None:
    """Train (or resume), predict and evaluate one run; returns its ``done.json`` record.

    Returns ``None`` when ``stop_after`` ended the training early (run the same call again to resume).
    A finished run (``done.json`` present) is returned as it is, without any work.
    """
    done = read_done(spec.folder)
    if done is not None:
        return done
    spec.folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    weights = (
        _train_baseline(spec, device, stop_after)
        if spec.baseline
        else _train_pscgan(spec, device, stop_after)
    )
    _record_training_time(spec.folder, time.perf_counter() - start)
    if weights is None:
        return None
    pred = spec.folder / "prediction"
    if spec.baseline:
        from pscgan.baselines import predict_baseline

        summary = predict_baseline(weights, spec.data, pred, split="test", device=device or "cpu",
                                   resume=pred.is_dir())
    else:
        from pscgan.inference.batch import predict_batch

        inputs = [safe_child(spec.data, sid) for sid in spec.split["test"]]
        summary = predict_batch(inputs, pred, weights=weights, device=device or "cpu", resume=pred.is_dir())
    check_predicted(pred, summary, spec.split["test"])
    return _evaluate(spec, pred)


def check_predicted(pred: Path, summary: dict[str, Any], test: list[str]) -> None:
    """Refuse a prediction that lacks test subjects: a run scored on fewer subjects than its table says
    would pass silently (a subject that failed, or a dataset whose test part no longer matches the plan).

    Raises:
        InputError: naming the prediction folder, how many subjects failed or are missing, and the first
            reason.
    """
    failures = summary.get("failures") or []
    if failures:
        first = failures[0]
        who = first.get("subject", first.get("input"))
        raise InputError(pred, f"{len(failures)} test subject(s) could not be predicted, first {who}: "
                               f"{first.get('error')}; fix the input and repeat the command (finished runs "
                               "are kept)")
    missing = sorted(set(test) - set(summary.get("subjects") or []))
    if missing:
        raise InputError(pred, f"{len(missing)} test subject(s) of the experiment's plan were not predicted, "
                               f"e.g. {missing[:3]}: does the dataset's test split still match the plan?")


def run_config(spec: RunSpec) -> PscganConfig:
    """The configuration a PSCGAN run trains: the variant's, with the run's seed and steps per phase."""
    from pscgan.config.schema import apply_overrides

    if spec.config is None:
        raise ValueError("a baseline run has no PSCGAN configuration")
    return apply_overrides(
        spec.config, [f"train.seed={spec.seed}", f"train.steps_per_phase={spec.steps_per_phase}"]
    )


def _train_pscgan(spec: RunSpec, device: str | None, stop_after: int | None) -> Path | None:
    from pscgan.training.launch import TrainOptions, run_training
    from pscgan.training.run_folder import CONFIG_FILE
    from pscgan.training.trainer import WEIGHTS_FILE

    run = spec.folder / "train"
    if (run / WEIGHTS_FILE).is_file():
        return run / WEIGHTS_FILE
    config = run_config(spec)
    resume = (run / CONFIG_FILE).is_file()
    weights = run_training(
        TrainOptions(
            run=run,
            data=spec.data,
            config=config,
            resume=resume,
            device=device,
            overwrite=not resume,
            progress=False,
            stop_after=stop_after,
            split=None if resume else _train_split(spec.split),
        )
    )
    return weights if weights.is_file() else None


def _train_baseline(spec: RunSpec, device: str | None, stop_after: int | None) -> Path | None:
    from pscgan.baselines import train_baseline

    assert spec.baseline is not None
    shared = spec.reference.train if spec.reference is not None else None
    weights = train_baseline(
        spec.baseline,
        spec.data,
        spec.folder / "train",
        steps=spec.steps_per_phase * spec.phases,
        seed=spec.seed,
        device=device,
        split=_train_split(spec.split),
        preset=spec.preset,
        stop_after=stop_after,
        register_lge=shared.register_lge if shared else None,
        preprocessing=spec.reference.preprocessing if spec.reference is not None else None,
        num_threads=shared.num_threads if shared else None,
        dihedral_augmentation=shared.dihedral_augmentation if shared else 0.0,
        ed_shift_augmentation=shared.ed_shift_augmentation if shared else 0,
    )
    return weights if weights.is_file() else None


def _train_split(split: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: list(split.get(k, [])) for k in ("train", "validation", "test")}


def timing_from_log(train_run: Path) -> dict[str, Any]:
    """The ``timing.json`` record of a ``pscgan train`` run folder: every sitting, from its train.log.

    Raises:
        InputError: the run has no readable train.log, or a sitting in it ends before it starts.
    """
    from pscgan.training.run_folder import training_sittings

    sittings = training_sittings(train_run)
    return {"training_seconds": sum(sittings), "sessions": len(sittings)}


def _record_training_time(folder: Path, seconds: float) -> None:
    """Add this sitting's ``seconds`` to the run's training time, or, for a run with a training log,
    take the time of every sitting from the log: a sitting killed before it returned (a crash, a
    machine going away) still counts, as ``--reuse-from`` counts an adopted run."""
    from pscgan.training.run_folder import LOG_FILE

    if (folder / "train" / LOG_FILE).is_file():
        write_json_atomic(folder / TIMING_FILE, timing_from_log(folder / "train"))
    else:
        _add_training_seconds(folder, seconds)


def _add_training_seconds(folder: Path, seconds: float) -> None:
    path = folder / TIMING_FILE
    timing = _read_timing(path) if path.is_file() else {"training_seconds": 0.0, "sessions": 0}
    timing["training_seconds"] += seconds
    timing["sessions"] += 1
    write_json_atomic(path, timing)


def _read_timing(path: Path) -> dict[str, Any]:
    """A run's ``timing.json``: training seconds (a finite number >= 0) and sittings (an integer)."""
    timing = read_json(path, expect=dict, what="training time record")
    seconds, sessions = timing.get("training_seconds"), timing.get("sessions")
    if not (isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and 0 <= seconds < 1e12) \
            or type(sessions) is not int or sessions < 0:
        raise InputError(path, "fields training_seconds and sessions must be a number of seconds and a "
                               "count; delete the file (the run's training time is then counted from now)")
    return timing


def _steps_trained(spec: RunSpec) -> int | None:
    """Generator steps the run's metrics log reached (PSCGAN runs and baselines), for the measured
    s/step."""
    from pscgan.training.run_folder import MetricsLog

    steps = [r.get("step") for r in MetricsLog(spec.folder / "train" / "metrics.jsonl").read()]
    return max((s for s in steps if isinstance(s, int)), default=None)


def _evaluate(spec: RunSpec, pred: Path) -> dict[str, Any]:
    from pscgan.evaluation.evaluate import evaluate, jsonable
    from pscgan.evaluation.result_file import read_evaluation
    from pscgan.experiments.metrics import run_metrics, subject_metrics

    result = evaluate(pred, spec.data, spec.folder / "evaluation", overwrite=True)
    subjects = subject_metrics(result["pairs"])
    write_json_atomic(spec.folder / SUBJECT_METRICS_FILE, jsonable(subjects))
    evaluation = read_evaluation(spec.folder / "evaluation" / "evaluation.json",
                                 redo="repeat the command to evaluate the run again")
    timing = _read_timing(spec.folder / TIMING_FILE)
    steps = _steps_trained(spec)
    record = {
        "seed": spec.seed,
        "baseline": spec.baseline,
        "steps_per_phase": spec.steps_per_phase,
        "steps_trained": steps,
        "training_seconds": timing["training_seconds"],
        "seconds_per_step": timing["training_seconds"] / steps if steps else None,
        "test_subjects": sorted(spec.split["test"]),
        "metrics": jsonable(run_metrics(evaluation)),
        "subjects": jsonable(subjects),
    }
    origin = reused_from(spec.folder)
    if origin is not None:
        record["reused_from"] = origin
    write_json_atomic(spec.folder / DONE_FILE, record)
    return record


def reused_from(folder: Path) -> str | None:
    """The training run folder the run in ``folder`` adopted (its ``adopted.json``), or None.

    Raises:
        InputError: ``adopted.json`` is not an adoption record (a folder or a broken link in its place too).
    """
    from pscgan.experiments.run_record import check_adoption_record

    adopted = Path(folder) / ADOPTED_FILE
    if not adopted.exists() and not adopted.is_symlink():
        return None
    return check_adoption_record(adopted, read_json(adopted, expect=dict, what="adoption record"))
