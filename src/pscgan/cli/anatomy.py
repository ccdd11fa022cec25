"""``pscgan anatomy``: pack training frames for the anatomy network, and train it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from pscgan.cli._common import handle_errors, output_file, writing
from pscgan.ui import console

app = typer.Typer(no_args_is_help=True,
                  help="The anatomy network (LV detection, blood pool and myocardium on real frames).")


@app.command("pack")
@handle_errors
def pack(
    out: Path = typer.Option(..., "--out", "-o", help="Slice pack to write (.npz)."),
    acdc: Path | None = typer.Option(None, "--acdc", help="An ACDC ED/ES folder (acdc-edes layout)."),
    patients: str = typer.Option("train", "--patients",
                                 help="With --acdc: train | validation | all (the fixed patient split)."),
    dataset: Path | None = typer.Option(None, "--dataset", help="A pscgan dataset folder with labels."),
    split: str | None = typer.Option(None, "--split", help="With --dataset: one part of its split "
                                                          "(default: every subject)."),
    spacing: float = typer.Option(1.5, "--spacing", min=0.25, max=5.0, help="Grid spacing (mm)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing pack."),
) -> None:
    """Read labelled frames (ACDC ED/ES stacks, or a pscgan dataset) into one compressed slice pack."""
    from pscgan.anatomy.acdc import split_patients
    from pscgan.anatomy.frames import acdc_slices, dataset_slices, save_slices
    from pscgan.data.layout import read_manifest
    from pscgan.errors import ConfigError

    if (acdc is None) == (dataset is None):
        raise ConfigError(None, "give exactly one of --acdc and --dataset")
    if out.exists() and not overwrite:
        raise ConfigError(out, "exists; give --overwrite to replace it")
    output_file(out, [acdc, dataset], ours=_is_slice_pack)
    if acdc is not None:
        parts = split_patients(acdc)
        if patients not in ("train", "validation", "all"):
            raise ConfigError(None, f"--patients must be train, validation or all, got {patients!r}")
        chosen = parts["train"] + parts["validation"] if patients == "all" else parts[patients]
        slices = list(acdc_slices(acdc, chosen, spacing_mm=spacing))
    else:
        assert dataset is not None  # exactly one of the two, checked above
        manifest = read_manifest(dataset)
        if split is not None and split not in manifest.split:
            raise ConfigError(dataset, f"has no split part {split!r} (parts: {', '.join(manifest.split)})")
        chosen = manifest.split[split] if split is not None else list(manifest.subjects)
        slices = list(dataset_slices(dataset, chosen, spacing_mm=spacing))
    save_slices(out, slices)
    console().print(f"{len(slices)} slices of {len(chosen)} subjects -> {out}")


@app.command("train")
@handle_errors
def train(
    packs: list[str] = typer.Option(..., "--pack", help="NAME=PACK.npz training slices (repeatable)."),
    validation: Path = typer.Option(..., "--validation", help="Slice pack to select the best weights on."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder (an existing one is resumed)."),
    mix: list[str] = typer.Option([], "--mix", help="NAME=P: share of each batch drawn from a pack."),
    overrides: list[str] = typer.Option([], "--set", help="field=value of the anatomy configuration."),
    licence: str = typer.Option("", "--licence", help="Licence of the weights, stored in them (weights "
                                                     "trained on ACDC: see pscgan.anatomy.acdc.LICENCE)."),
    device: str | None = typer.Option(None, "--device", help="cpu or cuda (default: cuda when available)."),
    max_minutes: float | None = typer.Option(None, "--max-minutes", min=0.0,
                                             help="Stop this sitting after so many minutes (resumable)."),
    budget_minutes: float | None = typer.Option(
        None, "--budget-minutes", min=0.1, help="Set the number of steps to what fits so many minutes, "
                                                "timed once on this machine before training (recorded)."),
    init: Path | None = typer.Option(None, "--init", help="Anatomy weights to start from."),
) -> None:
    """Train the anatomy network on slice packs; writes RUN/model.safetensors when done."""
    import json

    import torch

    from pscgan.anatomy.frames import load_slices, training_frames
    from pscgan.anatomy.network import AnatomyConfig
    from pscgan.anatomy.train import calibrate_steps, train_anatomy
    from pscgan.errors import ConfigError

    def pairs(items: list[str], what: str) -> dict[str, str]:
        out_: dict[str, str] = {}
        for item in items:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ConfigError(None, f"{what} {item!r} must look like NAME=VALUE")
            out_[key] = value
        return out_

    fields: dict[str, object] = {}
    for key, value in pairs(overrides, "--set").items():
        try:
            fields[key] = json.loads(value)
        except (json.JSONDecodeError, RecursionError):  # not JSON (or nested too deep): the text
            fields[key] = value
    try:
        config = AnatomyConfig(**fields)
    except (ValueError, TypeError) as exc:
        problem = " ".join(str(exc).split())  # pydantic's report spans lines: one line here
        raise ConfigError(None, f"invalid anatomy configuration: {problem[:500]}") from None
    if out.is_dir() and any(out.iterdir()) and not (out / "config.json").is_file():
        from pscgan.errors import OutputExistsError

        raise OutputExistsError(out, "holds files that are not an anatomy training run; choose a new folder")
    train_sets = {name: training_frames(load_slices(path)) for name, path in pairs(packs, "--pack").items()}
    try:
        shares = {k: float(v) for k, v in pairs(mix, "--mix").items()}
    except ValueError:
        raise ConfigError(None, "--mix shares must be numbers") from None
    record = {"packs": {k: Path(v).name for k, v in pairs(packs, "--pack").items()},
              "validation": validation.name}
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if budget_minutes is not None and not (out / "config.json").is_file():
        steps, per_step = calibrate_steps(config, train_sets, budget_minutes, device=dev)
        config = config.model_copy(update={"steps": steps,
                                           "validation_interval": max(1, min(config.validation_interval,
                                                                             steps // 10))})
        record["budget"] = {"minutes": budget_minutes, "seconds_per_step": per_step, "steps": steps}
        console().print(f"budget {budget_minutes} min: {per_step * 1000:.1f} ms per step -> {steps} steps")
    elif budget_minutes is not None:  # a resumed run keeps the steps it was given
        config = _resumed_config(out / "config.json")
    inputs = [Path(v) for v in pairs(packs, "--pack").values()] + [validation, init]
    with writing(out, inputs):
        summary = train_anatomy(out, config, train_sets, training_frames(load_slices(validation)),
                                mix=shares or None, device=dev, training_record=record, licence=licence,
                                log=console().print,
                                max_seconds=None if max_minutes is None else max_minutes * 60, init=init)
    console().print(json.dumps(summary))


def _resumed_config(path: Path) -> Any:
    """The configuration a training run folder records (its ``config.json``), checked."""
    from pscgan.anatomy.network import AnatomyConfig
    from pscgan.errors import InputError
    from pscgan.io.jsonfile import read_json

    record = read_json(path, expect=dict, what="anatomy training record")
    try:
        return AnatomyConfig(**record["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(path, f"holds no valid anatomy configuration ({str(exc).splitlines()[0][:200]})"
                         ) from None


def _is_slice_pack(path: Path) -> bool:
    """Whether ``path`` is a slice pack (what ``pscgan anatomy pack`` writes, and so may replace)."""
    from pscgan.anatomy.frames import load_slices
    from pscgan.errors import InputError

    try:
        load_slices(path)
    except InputError:
        return False
    return True
