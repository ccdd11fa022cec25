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
    >>> plan = open_plan(out, {"table": "table3", "seeds": 2}, derive=lambda: {"split": {}})
    >>> open_plan(out, {"table": "table3", "seeds": 2}, derive=dict)["split"]
    {}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pscgan.config.schema import PscganConfig
from pscgan.errors import ConfigError
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
        try:
            plan = json.loads(plan_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(plan_path, f"not a readable experiment plan: {exc}") from None
        if not isinstance(plan, dict) or plan.get("format") != PLAN_FORMAT or not isinstance(
                plan.get("request"), dict):
            raise ConfigError(plan_path, "not an experiment plan")
        plan = migrate(EXPERIMENT_PLAN, plan, source=plan_path)[0]
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
    """
    from pscgan.config.schema import apply_overrides, config_from_dict, load_config
    from pscgan.training.run_folder import CONFIG_FILE

    if plan.get("base_config") is not None:
        return config_from_dict(plan["base_config"], source=Path(out) / PLAN_FILE)
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
