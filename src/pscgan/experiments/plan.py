"""The experiment folder's ``plan.json``: what was asked for, and what was fixed once for all runs.

``plan.json`` holds the request (``request``: table, data, preset, overrides, budget, seeds, ...)
and what was derived from it the first time and must stay fixed for the experiment to be
reproducible and resumable: the subject split, the preset as resolved then (``base_config``, see
:func:`fixed_config`), the calibration of each variant and the resulting steps per phase. A repeated
command on the same folder continues the experiment when its request is identical and is refused
otherwise (unless ``overwrite``, which starts over).

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "exp"
    >>> split = {"train": ["a", "b"], "validation": [], "test": ["c"]}
    >>> plan = open_plan(out, {"table": "table3", "seeds": 2}, derive=lambda: {"split": split})
    >>> open_plan(out, {"table": "table3", "seeds": 2}, derive=dict)["split"]["test"]
    ['c']
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from pscgan.config.schema import PscganConfig
from pscgan.errors import ConfigError, InputError
from pscgan.io.atomic import prepare_output_dir, write_json_atomic
from pscgan.migrations import EXPERIMENT_PLAN, migrate

PLAN_FILE = "plan.json"
ENV_FILE = "environment.json"
PLAN_FORMAT = "pscgan-experiment-plan"
PLAN_VERSION = EXPERIMENT_PLAN.current


def _normalised(obj: Any) -> Any:
    # tuples, Paths and enums compare equal to what a reloaded plan.json holds
    return json.loads(json.dumps(obj, default=str))


def _differences(saved: dict[str, Any], asked: dict[str, Any]) -> list[str]:
    keys = sorted(set(saved) | set(asked))
    return [
        f"{k}: {saved.get(k)!r} before, {asked.get(k)!r} now" for k in keys if saved.get(k) != asked.get(k)
    ]


def open_plan(
    out: Path,
    request: dict[str, Any],
    *,
    derive: Callable[[], dict[str, Any]],
    overwrite: bool = False,
    environment: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Start an experiment in ``out`` or continue the one there.

    Args:
        out: experiment folder.
        request: the arguments that define the experiment (JSON-able).
        derive: called for a new experiment only; returns fields fixed once (e.g. ``split``).
        overwrite: start over in a folder that holds another experiment or other data.
        environment: written as ``environment.json`` for a new experiment.

    Returns:
        The plan (``request``, the derived fields, ``calibration`` and ``steps_per_phase``).

    Raises:
        ConfigError: the folder holds an experiment started with other arguments.
        OutputExistsError: the folder holds data that is not an experiment.
    """
    out = Path(out)
    request = _normalised(request)
    plan_path = out / PLAN_FILE
    if plan_path.is_file() and not overwrite:
        # checked field by field as written, then brought to today's version (pscgan.migrations)
        plan = migrate(EXPERIMENT_PLAN, read_plan(plan_path), source=plan_path)[0]
        diffs = _differences(plan["request"], request)
        if diffs:
            raise ConfigError(
                plan_path,
                "this folder holds an experiment started with other arguments ("
                + "; ".join(diffs)
                + "); repeat the original command to continue it, "
                "choose another --out, or pass --overwrite to start over",
            )
        return plan
    prepare_output_dir(out, overwrite=overwrite)
    if environment is not None:
        write_json_atomic(out / ENV_FILE, environment)
    plan = {
        "format": PLAN_FORMAT,
        "version": PLAN_VERSION,
        "request": request,
        **_normalised(derive()),
        "calibration": {},
        "steps_per_phase": {},
    }
    save_plan(out, plan)
    return plan


def read_plan(path: Path) -> dict[str, Any]:
    """An experiment's ``plan.json``, checked for what continuing the experiment reads from it.

    Raises:
        InputError: unreadable, not JSON, or a field of the wrong type (naming the field).
        ConfigError: not an experiment plan.
    """
    from pydantic import ValidationError

    from pscgan.config.schema import config_from_record
    from pscgan.io.jsonfile import non_finite, read_json, validation_problem

    plan = read_json(path, expect=dict, what="experiment plan")
    if plan.get("format") != PLAN_FORMAT or not isinstance(plan.get("request"), dict):
        raise ConfigError(path, "not an experiment plan")
    bad = non_finite(plan)
    if bad is not None:
        raise InputError(path, bad)
    # an experiment's plan fixes the split, seeds and variants; a cross-validation's its folds
    needed = {"experiment": ("split", "seed_values", "variants"), "cv": ("folds", "splits")}
    kind = plan["request"].get("kind")
    missing = [k for k in needed.get(kind if isinstance(kind, str) else "", ()) if plan.get(k) is None]
    if missing:
        raise InputError(path, f"field {missing[0]}: missing; {_START_OVER}")
    try:
        _PlanFile.model_validate(plan)
        if plan.get("base_config") is not None:  # what every later run trains with, checked field by field
            config_from_record(plan["base_config"], source=path, where="base_config")
    except ValidationError as exc:
        raise InputError(path, f"{validation_problem(exc)}; {_START_OVER}") from None
    except InputError as exc:
        raise InputError(path, f"{exc.problem}; {_START_OVER}") from None
    return plan


_START_OVER = "repeat the original command in a new folder, or pass --overwrite to start over"


_NAME = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,199}$")]  # a folder name, no path
_IDS = list[Annotated[str, Field(max_length=1000)]]


class _Split(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")

    train: _IDS
    validation: _IDS
    test: _IDS


class _PlanVariant(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")

    name: _NAME
    label: str
    overrides: list[str] | None
    baseline: str | None
    note: str = ""


class _Calibration(BaseModel):
    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="allow")

    seconds_per_iteration: dict[str, Annotated[float, Field(gt=0.0)]] | None = None
    seconds_per_step_all_phases: float = Field(gt=0.0)
    load_average_1min: float | None = None
    cpu_count: int | None = None


class _PlanFile(BaseModel):
    """The fields of ``plan.json`` a continued experiment or cross-validation reads (others are kept)."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="allow")

    request: dict[str, Any]
    split: _Split | None = None
    splits: list[_Split] | None = Field(default=None, min_length=1)
    folds: list[_IDS] | None = None
    seed_values: list[Annotated[int, Field(ge=0)]] | None = Field(default=None, min_length=1)
    variants: list[_PlanVariant] | None = Field(default=None, min_length=1)
    calibration: dict[str, _Calibration]
    steps_per_phase: dict[str, Annotated[int, Field(ge=1, le=10**9)]]
    base_config: dict[str, Any] | None = None


def save_plan(out: Path, plan: dict[str, Any]) -> None:
    """Write ``plan.json`` atomically (after a calibration was added)."""
    write_json_atomic(Path(out) / PLAN_FILE, _normalised(plan))


def fixed_config(
    out: Path, plan: dict[str, Any], current: PscganConfig, runs: Iterable[tuple[Path, int]], preset: str
) -> PscganConfig:
    """The configuration the experiment started with (``plan["base_config"]``).

    A continued experiment trains its later runs with the configuration of its earlier ones, even when
    the package's presets changed in between. A plan that does not record it (``None``: one of version 1,
    :data:`pscgan.migrations.EXPERIMENT_PLAN`) gets ``current`` now, after a check that its finished or
    started ``runs`` (run folder, seed; trained with ``current`` plus their seed and steps) trained
    exactly that.

    Raises:
        ConfigError: such a run was trained with another configuration.
        InputError: the recorded ``base_config`` is damaged (a field missing, of another type or out of
            bounds; :func:`~pscgan.config.schema.config_from_record`).
    """
    from pscgan.config.schema import apply_overrides, config_from_record, load_config
    from pscgan.training.run_folder import CONFIG_FILE

    if plan.get("base_config") is not None:
        return config_from_record(plan["base_config"], source=Path(out) / PLAN_FILE, where="base_config")
    for run, seed in runs:
        trained_path = Path(run) / "train" / CONFIG_FILE
        if not trained_path.is_file():
            continue
        trained = load_config(trained_path)
        expected = apply_overrides(
            current, [f"train.seed={seed}", f"train.steps_per_phase={trained.train.steps_per_phase}"]
        )
        if trained.model_dump() != expected.model_dump():
            raise ConfigError(
                trained_path,
                f"this run was trained with another configuration than preset '{preset}' gives now (the "
                f"presets changed since the experiment started); continue it with the pscgan version "
                f"that started it, or start a new experiment folder",
            )
    plan["base_config"] = json.loads(current.to_json())
    save_plan(out, plan)
    return current
