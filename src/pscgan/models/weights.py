"""Trained cascade weights: one safetensors file that carries its own configuration and checksum.

The file holds the :class:`~pscgan.models.cascade.Cascade` state dict; its metadata holds the format
tag, the full run configuration (so the right networks are built before loading), a SHA-256 over
every tensor's name, dtype, shape and bytes, and a SHA-256 over the other metadata entries (a flipped
digit in the configuration would otherwise build subtly different networks that still fit the tensors).
Loading never unpickles anything, and refuses a file whose checksums do not match, whose configuration
is invalid, or whose tensors do not fit the networks of that configuration (e.g. weights of another
preset given with ``--preset``).

Example:
    >>> import tempfile, pathlib
    >>> from pscgan.config.presets import get_preset
    >>> from pscgan.models.factory import build_cascade
    >>> cfg = get_preset("tiny")
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "w.safetensors"
    >>> save_weights(p, build_cascade(cfg), cfg)
    >>> cascade, cfg2 = load_weights(p)
    >>> cfg2.preset
    'tiny'
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from pscgan.config.schema import PscganConfig, config_from_dict
from pscgan.errors import ConfigError, InputError
from pscgan.io.atomic import atomic_path
from pscgan.io.weights_digest import metadata_digest, tensors_digest
from pscgan.migrations import CASCADE_WEIGHTS, migrate_weights_header

FORMAT = "pscgan-cascade-weights"
VERSION = str(CASCADE_WEIGHTS.current)


def save_weights(path: str | Path, cascade: torch.nn.Module, config: PscganConfig, *,
                 extra: dict[str, str] | None = None, half: bool = False) -> None:
    """Write the cascade's weights with their configuration and checksum, atomically.

    Args:
        half: store floating-point tensors as float16 (half the size; they are cast back to the
            networks' float32 on load).
    """
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in cascade.state_dict().items()}
    if half:
        tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    metadata = {"format": FORMAT, "version": VERSION, "config": config.model_dump_json(),
                "sha256": tensors_digest(tensors), **(extra or {})}
    metadata["metadata_sha256"] = metadata_digest(metadata)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def read_safetensors_header(path: str | Path) -> dict[str, str]:
    """The string metadata of any safetensors file, without reading its tensors.

    Raises:
        InputError: the file is missing or not a readable safetensors file.
    """
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "weights file not found")
    try:
        with safe_open(str(path), framework="pt") as fh:
            return dict(fh.metadata() or {})
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(path, f"not a readable safetensors weights file ({exc})") from None


def read_weights_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of a weights file (format, version, config JSON, checksums, extras), verified against
    its own checksum, in today's version (:data:`pscgan.migrations.CASCADE_WEIGHTS`: a version-1 file may
    lack the checksum, and is then read unverified)."""
    path = Path(path)
    meta = read_safetensors_header(path)
    if meta.get("format") != FORMAT:
        raise InputError(path, "not a pscgan cascade weights file (missing format tag)")
    if "metadata_sha256" in meta:
        if metadata_digest(meta) != meta["metadata_sha256"]:
            raise InputError(path, "checksum mismatch: the weights file's configuration is corrupted")
    elif meta.get("version") == VERSION:
        raise InputError(path, "carries no metadata checksum: its configuration cannot be verified")
    return migrate_weights_header(meta, source=path)[0]


def load_weights(path: str | Path, *, expect: PscganConfig | None = None,
                 map_location: str | torch.device = "cpu") -> tuple[torch.nn.Module, PscganConfig]:
    """Build the cascade described by the file's configuration and load its weights.

    Args:
        path: weights file.
        expect: if given, the file's model configuration must equal this one's.
        map_location: device for the tensors.

    Raises:
        InputError: unreadable file, checksum mismatch, or tensors that do not fit.
    """
    from pscgan.models.factory import build_cascade

    path = Path(path)
    meta = read_weights_metadata(path)
    try:
        config = config_from_dict(json.loads(meta["config"]), source=path)
    except (KeyError, json.JSONDecodeError):
        raise InputError(path, "weights file carries no readable configuration") from None
    except ConfigError as exc:
        raise InputError(path, f"weights carry an invalid configuration: {exc.problem}") from None
    if expect is not None and expect.model.model_dump() != config.model.model_dump():
        raise InputError(path, f"weights are for preset {config.preset!r}, whose networks differ from the "
                               f"requested {expect.preset!r}")
    from pscgan.models.factory import check_parameter_count

    try:  # before the networks are built: a configuration with valid checksums may still ask for 100 GB
        check_parameter_count(config, path)
    except ConfigError as exc:
        raise InputError(path, f"weights carry an unusable configuration: {exc.problem}") from None
    tensors = load_verified_tensors(path, meta, map_location)
    cascade = build_cascade(config).to(map_location)
    load_strict(cascade, tensors, path, "the networks of their own configuration")
    return cascade.eval(), config


def load_verified_tensors(path: Path, meta: dict[str, str], map_location: str | torch.device = "cpu"
                          ) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, after checking them against the SHA-256 in its header ``meta``."""
    from safetensors.torch import load_file

    tensors = load_file(str(path), device=str(map_location))
    if tensors_digest(tensors) != meta.get("sha256"):
        raise InputError(path, "checksum mismatch: the weights file is corrupted")
    return tensors


def load_strict(module: torch.nn.Module, tensors: dict[str, torch.Tensor], path: Path, what: str) -> None:
    """Load ``tensors`` into ``module`` exactly (no missing or extra keys, same shapes), or say which
    file does not fit ``what``."""
    try:
        module.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise InputError(path, f"weights do not fit {what} ({first})") from None
