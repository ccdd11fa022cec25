"""Checkpoints that load without pickle, are written atomically and are verified on load.

Layout inside a run folder::

    checkpoints/
      latest.json                 {"name": "step_00001200", ...}   (replaced atomically, last)
      step_00001200/
        weights.safetensors       every module's state_dict, keys prefixed "<module name>."
        state.safetensors         tensors of optimizer/scheduler/RNG states
        state.json                the rest of those states, phase/step/extra, and sha256 of both files

A checkpoint folder is first written as ``<name>.partial`` and renamed when complete, and
``latest.json`` is replaced only after that: killing the process at any moment leaves either the
previous checkpoint or the new one, never a half-written one. A checkpoint saved again under an
existing name (a re-saved restore point, the best weights of a phase) first moves the old folder aside
as ``<name>.old``; a process killed between the two renames leaves that copy, which the next save or
load puts back. Loading checks the checksums, so a corrupted file is refused with a message instead of
being silently used.

Fault injection (tests only): when the environment variable ``PSCGAN_FAULT_KILL_IN_CHECKPOINT`` is
``N`` (or ``N:pointer``), the process SIGKILLs itself during its N-th :func:`save_checkpoint`, after
writing the ``.partial`` folder and before renaming it (or, with ``:pointer``, after the rename and
before ``latest.json`` is updated). Unset, it does nothing.

Example:
    >>> import tempfile, torch
    >>> net = torch.nn.Linear(2, 2)
    >>> d = tempfile.mkdtemp()
    >>> _ = save_checkpoint(d, "step_00000001", modules={"g": net}, state={"step": 1})
    >>> ckpt = load_checkpoint(d)
    >>> ckpt.state["step"], sorted(ckpt.weights)
    (1, ['g.bias', 'g.weight'])
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pscgan.errors import InputError
from pscgan.io.atomic import write_json_atomic
from pscgan.training.tree_codec import decode, encode

CHECKPOINT_DIR = "checkpoints"
LATEST = "latest.json"
FORMAT = "pscgan-checkpoint"
VERSION = 1
KILL_HOOK_ENV = "PSCGAN_FAULT_KILL_IN_CHECKPOINT"
_saves_in_process = 0


@dataclass
class Checkpoint:
    """A loaded checkpoint: module weights by prefixed key, and the decoded training state."""

    path: Path
    weights: dict[str, torch.Tensor]
    state: dict[str, Any]

    def module_state(self, name: str) -> dict[str, torch.Tensor]:
        """The state_dict of the module saved under ``name``."""
        prefix = f"{name}."
        sd = {k[len(prefix):]: v for k, v in self.weights.items() if k.startswith(prefix)}
        if not sd:
            raise InputError(self.path, f"holds no weights for module {name!r}")
        return sd


def _meta_digest(meta: dict[str, Any]) -> str:
    """SHA-256 of the metadata's canonical JSON, without its own digest field."""
    body = {k: v for k, v in meta.items() if k != "meta_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _save_tensors(
    path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> None:
    from safetensors.torch import save_file

    save_file(tensors, str(path), metadata=metadata)
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def save_checkpoint(root: str | Path, name: str, *, modules: dict[str, torch.nn.Module],
                    state: dict[str, Any], keep_last: int | None = None, protect: set[str] | None = None,
                    update_latest: bool = True) -> Path:
    """Write a checkpoint under ``root/checkpoints/name`` and point ``latest.json`` at it.

    Args:
        root: run folder.
        name: checkpoint name (a plain folder name, e.g. ``step_00001200``).
        modules: modules whose ``state_dict`` is saved (unwrap DDP before passing).
        state: everything else (optimizer/scheduler state dicts, RNG state, phase, step, ...):
            nested dicts/lists of tensors, numbers and strings.
        keep_last: delete older ``step_*`` checkpoints beyond this many (``None`` keeps all).
        protect: checkpoint names never deleted by ``keep_last`` (e.g. the best per phase).
        update_latest: point ``latest.json`` at this checkpoint (False for side copies such as the best
            weights, which are not resumable states).

    Returns:
        The checkpoint folder.
    """
    ckdir = Path(root) / CHECKPOINT_DIR
    ckdir.mkdir(parents=True, exist_ok=True)
    _tidy(ckdir)
    final = ckdir / name
    tmp = ckdir / f"{name}.partial"
    tmp.mkdir()
    weights = {f"{mname}.{k}": v.detach().cpu().contiguous().clone()
               for mname, mod in modules.items() for k, v in mod.state_dict().items()}
    _save_tensors(tmp / "weights.safetensors", weights, {"format": FORMAT})
    tensors, skeleton = encode(state)
    _save_tensors(tmp / "state.safetensors", tensors, {"format": FORMAT})
    meta = {"format": FORMAT, "version": VERSION, "name": name, "state": skeleton,
            "sha256": {f: sha256_file(tmp / f) for f in ("weights.safetensors", "state.safetensors")}}
    meta["meta_sha256"] = _meta_digest(meta)
    write_json_atomic(tmp / "state.json", meta)
    _fault_hook("partial")
    aside = ckdir / f"{name}.old"
    if final.exists():
        os.replace(final, aside)
    os.replace(tmp, final)
    shutil.rmtree(aside, ignore_errors=True)
    _fault_hook("pointer")
    if update_latest:
        write_json_atomic(ckdir / LATEST, {"name": name})
    if keep_last is not None:
        _prune(ckdir, keep_last, (protect or set()) | {name})
    return final


def _tidy(ckdir: Path) -> None:
    """Remove what a killed save left behind: ``.partial`` folders, and ``.old`` copies (put back when
    the killed save had already moved the checkpoint aside but not yet renamed the new one in)."""
    for p in ckdir.iterdir():
        if p.name.endswith(".partial"):
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.endswith(".old"):
            _recover(ckdir / p.name[: -len(".old")])


def _recover(folder: Path) -> None:
    aside = folder.with_name(f"{folder.name}.old")
    if aside.is_dir():
        if folder.exists():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(aside, folder)


def _fault_hook(stage: str) -> None:
    # Fault injection for kill-and-resume tests (see the module docstring); inert unless the variable is set.
    spec = os.environ.get(KILL_HOOK_ENV)
    if not spec:
        return
    count, _, where = spec.partition(":")
    if stage == "partial":
        global _saves_in_process
        _saves_in_process += 1
    if (where or "partial") == stage and _saves_in_process == int(count):
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def _prune(ckdir: Path, keep_last: int, protect: set[str]) -> None:
    steps = sorted(
        p for p in ckdir.iterdir() if p.is_dir() and p.name.startswith("step_") and "." not in p.name
    )
    for old in steps[:-keep_last] if keep_last > 0 else steps:
        if old.name not in protect:
            shutil.rmtree(old, ignore_errors=True)


def latest_checkpoint(root: str | Path) -> Path | None:
    """The folder ``latest.json`` points at, or ``None`` when the run has no checkpoint yet."""
    ckdir = Path(root) / CHECKPOINT_DIR
    pointer = ckdir / LATEST
    if not pointer.is_file():
        return None
    try:
        name = json.loads(pointer.read_text())["name"]
    except (ValueError, KeyError, TypeError, RecursionError, UnicodeDecodeError):
        raise InputError(
            pointer, "corrupt checkpoint pointer; point it at an existing checkpoint folder"
        ) from None
    if not isinstance(name, str) or name in {"", ".", ".."} or any(c in name for c in "/\\\x00"):
        raise InputError(
            pointer, f"corrupt checkpoint pointer: {name!r} is not a folder name in {CHECKPOINT_DIR}"
        )
    _recover(ckdir / name)
    return ckdir / name


def load_checkpoint(root_or_folder: str | Path, *, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Load and verify a checkpoint (a run folder's latest, or a checkpoint folder itself).

    Raises:
        InputError: missing files, checksum mismatch, or not a pscgan checkpoint.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(root_or_folder)
    if path.parent.name == CHECKPOINT_DIR:
        _recover(path)
    if not (path / "state.json").is_file():
        latest = latest_checkpoint(path)
        if latest is None:
            raise InputError(path, "no checkpoint found (neither a checkpoint folder nor a run with one)")
        path = latest
    meta_path = path / "state.json"
    if not meta_path.is_file():
        raise InputError(meta_path, "checkpoint metadata missing")
    from pscgan.io.jsonfile import read_json

    meta = read_json(meta_path, what="checkpoint metadata")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputError(meta_path, "not a pscgan checkpoint")
    # The step counts, learning-rate scale and RNG skeleton live in this file: checked like the tensors.
    if "meta_sha256" in meta and _meta_digest(meta) != meta["meta_sha256"]:
        raise InputError(meta_path, "checksum mismatch: the checkpoint metadata is corrupted; resume from an "
                                    "earlier one")
    if "name" in meta and meta["name"] != path.name:  # a state copied or renamed into another folder
        raise InputError(meta_path, f"records checkpoint {str(meta['name'])[:80]!r} but lies in folder "
                                    f"{path.name!r}; resume from an earlier one")
    listed = meta.get("sha256")
    if not isinstance(listed, dict) or set(listed) != {"weights.safetensors", "state.safetensors"}:
        # checked before any file is opened: a tampered list could name files outside the checkpoint
        raise InputError(meta_path, "checkpoint lists the wrong files")
    files = {}
    for fname, digest in listed.items():
        f = path / fname
        if not f.is_file():
            raise InputError(f, "checkpoint file missing")
        if sha256_file(f) != digest:
            raise InputError(
                f, "checksum mismatch: the checkpoint file is corrupted; resume from an earlier one"
            )
        try:
            files[fname] = load_file(str(f), device=str(map_location))
        except SafetensorError as exc:
            raise InputError(f, f"unreadable weights ({exc})") from None
    try:
        state = decode(files["state.safetensors"], meta["state"])
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        raise InputError(
            meta_path, f"checkpoint state skeleton does not fit its tensors ({exc!s:.200})"
        ) from None
    return Checkpoint(path=path, weights=files["weights.safetensors"], state=state)


@contextlib.contextmanager
def checkpoint_errors(path: Path) -> Iterator[None]:
    """Turn a checkpoint whose content does not fit this run into one InputError naming its state.json.

    Its checksums only prove the files are as written: ``state.json`` edited with its checksum recomputed
    can hold any skeleton, step or optimiser state, and restoring it fails in torch or in our own code.
    """
    try:
        yield
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            Path(path) / "state.json",
            f"checkpoint state does not fit this run ({first[:200]}); resume from an earlier checkpoint",
        ) from None
