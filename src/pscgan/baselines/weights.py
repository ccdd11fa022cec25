"""Baseline weights: one safetensors file carrying its kind, hyper-parameters and checksum.

Same conventions as PSCGAN's :mod:`pscgan.models.weights` (no pickle, SHA-256 over the tensors,
atomic write), with its own format tag, so a baseline file is never mistaken for a PSCGAN cascade and
the reverse. Loading refuses a file of another kind than asked for, and tensors that do not fit the
networks the stored hyper-parameters describe.

Example:
    >>> import tempfile, pathlib
    >>> from pscgan.baselines.config import baseline_config
    >>> from pscgan.baselines.networks import build_network
    >>> cfg = baseline_config("monai_unet", "tiny")
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "w.safetensors"
    >>> save_baseline_weights(p, build_network(cfg), cfg)
    >>> net, cfg2 = load_baseline_weights(p, kind="monai_unet")
    >>> cfg2 == cfg
    True
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from pydantic import ValidationError

from pscgan.baselines.config import BaselineConfig, BaselineKind, baseline_config_from_dict
from pscgan.errors import InputError
from pscgan.io.atomic import atomic_path
from pscgan.models.weights import FORMAT as CASCADE_FORMAT
from pscgan.models.weights import (
    load_strict,
    load_verified_tensors,
    read_safetensors_header,
    tensors_digest,
)

FORMAT = "pscgan-baseline-weights"
VERSION = "1"


def save_baseline_weights(path: str | Path, network: torch.nn.Module, config: BaselineConfig) -> None:
    """Write ``network``'s weights with ``config`` and a checksum, atomically."""
    from safetensors.torch import save_file

    import pscgan

    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in network.state_dict().items()}
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "kind": config.kind.value,
        "config": config.model_dump_json(),
        "sha256": tensors_digest(tensors),
        "pscgan": pscgan.__version__,
    }
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def read_baseline_metadata(path: str | Path) -> dict[str, str]:
    """The header of a baseline weights file (refuses anything else with a message saying what it is)."""
    path = Path(path)
    meta = read_safetensors_header(path)
    if meta.get("format") == CASCADE_FORMAT:
        raise InputError(
            path, "holds PSCGAN cascade weights, not a baseline's; predict with `pscgan predict`"
        )
    if meta.get("format") != FORMAT:
        raise InputError(path, "not a pscgan baseline weights file (missing format tag)")
    return meta


def load_baseline_weights(path: str | Path, *, kind: str | BaselineKind | None = None,
                          map_location: str | torch.device = "cpu") -> tuple[torch.nn.Module, BaselineConfig]:
    """Build the network the file describes and load its weights.

    Args:
        path: weights file.
        kind: if given, the file must hold this kind of baseline.
        map_location: device for the tensors.

    Raises:
        InputError: unreadable file, another kind, checksum mismatch, or tensors that do not fit.
    """
    from pscgan.baselines.networks import build_network

    path = Path(path)
    meta = read_baseline_metadata(path)
    try:
        config = baseline_config_from_dict(json.loads(meta["config"]), source=path)
    except (KeyError, ValueError, ValidationError) as exc:
        raise InputError(path, f"carries no valid baseline configuration ({exc})") from None
    if meta.get("kind") != config.kind.value:
        raise InputError(
            path, f"header says kind {meta.get('kind')!r} but its configuration {config.kind.value!r}"
        )
    if kind is not None and BaselineKind.parse(kind) is not config.kind:
        raise InputError(path, f"holds {config.kind.value!r} weights, not {BaselineKind.parse(kind).value!r}")
    tensors = load_verified_tensors(path, meta, map_location)
    network = build_network(config).to(map_location)
    load_strict(network, tensors, path, f"the {config.kind.value} network they describe")
    return network.eval(), config
