"""``pscgan data``: check a dataset folder and build its packed training cache."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pscgan.cli._common import handle_errors, named, output_file
from pscgan.ui import console, progress_columns, progress_enabled

if TYPE_CHECKING:
    from pscgan.config.schema import PscganConfig

app = typer.Typer(no_args_is_help=True, help="Check datasets and build training caches.")


@app.command("check")
@handle_errors
def check(
    dataset: Path = typer.Argument(..., help="Dataset folder in the canonical layout."),
    require_labels: bool = typer.Option(True, "--require-labels/--no-require-labels",
                                        help="Treat a subject without labels.nii.gz as a problem."),
) -> None:
    """Read every subject of a dataset and list the problems found, one line per subject; say what its
    labels annotate (dataset.json 'annotated') and what training would miss."""
    from rich.table import Table

    from pscgan.data.annotation import check_labels, dataset_annotation
    from pscgan.data.layout import (
        MANIFEST_FILE,
        dataset_labels_geometry,
        list_subject_folders,
        load_subject,
        read_manifest,
        subject_id_problem,
    )
    from pscgan.errors import PscganError

    folders = list_subject_folders(dataset)
    if (dataset / MANIFEST_FILE).is_file():
        read_manifest(dataset)
    annotation = dataset_annotation(dataset)
    problems: list[tuple[str, str]] = []
    n_slices = 0
    for folder in folders:
        try:
            s = load_subject(folder, require_labels=require_labels)
            n_slices += s.cine.array.shape[2]
            if s.labels is not None:
                check_labels(s.labels.array, annotation, folder / "labels.nii.gz")
            problem = subject_id_problem(folder, s.info)
            if problem:
                problems.append((folder.name, problem))
        except PscganError as exc:
            problems.append((folder.name, str(exc)))
    out = console()
    if problems:
        table = Table("subject", "problem", title=f"{len(problems)} of {len(folders)} subjects have problems")
        for name, msg in problems:
            table.add_row(name, msg)
        out.print(table)
        raise typer.Exit(code=1)
    out.print(f"{dataset}: {len(folders)} subjects, {n_slices} slices, no problems found "
              f"(labels_geometry: {dataset_labels_geometry(dataset).value})", markup=False)
    out.print(annotation.describe(), markup=False)
    if not annotation.complete:
        out.print("usable for prediction, evaluation and reports (what it lacks is reported as not defined); "
                  f"`pscgan train` cannot use it yet: no {'; no '.join(annotation.missing_for_training())}",
                  markup=False)


@app.command("cache")
@handle_errors
def cache(
    dataset: Path = typer.Argument(..., help="Dataset folder in the canonical layout."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Cache file (default: DATASET/pscgan_cache.safetensors)."
    ),
    preset: str | None = typer.Option(
        None, "--preset", "-p", help="Prepare as this preset plans: paper | cpu | tiny (default cpu)."
    ),
    config_file: Path | None = typer.Option(
        None, "--config", help="Prepare as this saved configuration plans (a run's config.json)."
    ),
    weights: Path | None = typer.Option(
        None, "--weights", help="Prepare as this weights file's model was trained (cascade or baseline)."
    ),
    overrides: list[str] = typer.Option(
        [], "--set", help="Config override section.field=value (repeatable), e.g. "
                          "--set preprocessing.temporal_method=fourier."
    ),
    crop: int | None = typer.Option(
        None, "--crop", min=16, help="In-plane crop size around the LV (default: the plan's "
                                     "model.image_size)."
    ),
    phases: int | None = typer.Option(
        None, "--phases", min=2, help="Cine phases after temporal resampling (default: the plan's "
                                      "model.frames)."
    ),
    spacing: float | None = typer.Option(
        None, "--spacing", min=0.1, help="Resample in-plane to this spacing in mm (default: the plan's "
                                         "preprocessing.target_spacing_mm; none keeps the native spacing)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Rebuild an existing cache file."),
    register_lge: bool | None = typer.Option(
        None,
        "--register-lge/--no-register-lge",
        help="Register the LGE (and labels drawn on it, per dataset.json labels_geometry) to the cine "
        "end-diastolic frame, as the paper does and every preset trains (default: the plan's "
        "train.register_lge).",
    ),
) -> None:
    """Preprocess a dataset once, as a model's plan says, and pack it into one memory-mapped file for
    training (the file `pscgan train` with that plan would build)."""
    from rich.progress import Progress

    from pscgan.data.cache import TrainingCache, build_cache
    from pscgan.data.layout import MANIFEST_FILE, list_subject_folders
    from pscgan.data.protocol import planned_options, preprocess_options

    if out is not None:  # the default lies in the dataset folder, beside the subjects
        output_file(
            out, [dataset, dataset / MANIFEST_FILE], may_hold_out=[dataset], ours=named(".safetensors")
        )
    config = cache_plan(preset, config_file, weights, overrides)
    planned = planned_options(config)
    for name, value in (("crop_size", crop), ("n_phases", phases), ("target_spacing_mm", spacing)):
        if value is not None:
            planned[name] = value
    register = config.train.register_lge if register_lge is None else register_lge
    options = preprocess_options(dataset, register_lge=register, **planned)
    n = len(list_subject_folders(dataset))
    with Progress(*progress_columns(), disable=not progress_enabled()) as progress:
        task = progress.add_task("packing subjects", total=n)
        path = build_cache(dataset, out, options=options, overwrite=overwrite,
                           on_subject=lambda _: progress.advance(task))
    c = TrainingCache(path)
    console().print(f"wrote {path} ({len(c)} slices, {path.stat().st_size / 2**20:.1f} MiB)")


def cache_plan(preset: str | None, config_file: Path | None, weights: Path | None,
               overrides: list[str]) -> PscganConfig:
    """The configuration whose plan (``model.frames``, ``model.image_size``, ``preprocessing``,
    ``train.register_lge``) a cache is built with: a preset, a saved configuration, or a weights file's
    (a baseline's plan on its preset), with ``overrides`` applied.

    Raises:
        ConfigError: more than one source, or an invalid configuration or override.
        InputError: an unreadable configuration or weights file.
    """
    import json

    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides, config_from_dict, load_config
    from pscgan.errors import ConfigError, InputError

    if sum(x is not None for x in (preset, config_file, weights)) > 1:
        raise ConfigError(None, "give one of --preset, --config and --weights")
    if config_file is not None:
        config = load_config(config_file)
    elif weights is not None:
        from pscgan.models.weights import FORMAT, read_safetensors_header, read_weights_metadata

        if read_safetensors_header(weights).get("format") == FORMAT:
            config = config_from_dict(json.loads(read_weights_metadata(weights)["config"]), source=weights)
        else:
            from pydantic import ValidationError

            from pscgan.baselines.config import baseline_config_from_dict
            from pscgan.baselines.weights import read_baseline_metadata

            try:
                b = baseline_config_from_dict(json.loads(read_baseline_metadata(weights)["config"]),
                                              source=weights)
            except (KeyError, ValueError, ValidationError) as exc:
                raise InputError(weights, f"carries no valid baseline configuration ({exc})") from None
            stored = get_preset(b.preset).model_dump(mode="json")
            stored["model"] |= {"frames": b.frames, "image_size": b.image_size}
            stored["train"]["register_lge"] = b.register_lge
            stored["preprocessing"] = b.preprocessing.model_dump(mode="json")
            config = config_from_dict(stored, source=weights)
    else:
        config = get_preset(preset or "cpu")
    return apply_overrides(config, overrides)
