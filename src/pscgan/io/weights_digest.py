"""Checksums of a safetensors weights file: over its tensors, and over its metadata.

Both are stored in the file's metadata (``sha256``, ``metadata_sha256``) and checked on load, so a
corrupted or edited file is refused instead of being used.

Example:
    >>> import torch
    >>> tensors_digest({"w": torch.zeros(2)}) == tensors_digest({"w": torch.zeros(2)})
    True
    >>> len(metadata_digest({"format": "x", "sha256": "ignored"}))
    64
"""

from __future__ import annotations

import hashlib
import json

import torch


def tensors_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over names, dtypes, shapes and raw bytes, in sorted key order."""
    h = hashlib.sha256()
    for k in sorted(tensors):
        t = tensors[k].detach().cpu().contiguous()
        h.update(f"{k}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def metadata_digest(metadata: dict[str, str]) -> str:
    """SHA-256 over every metadata entry except the two checksums (format, configuration, extras)."""
    payload = {k: v for k, v in metadata.items() if k not in ("sha256", "metadata_sha256")}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()
