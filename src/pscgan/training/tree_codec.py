"""Split a nested state (dicts, lists, tensors, numbers) into tensors and a JSON skeleton.

Optimizer and scheduler states are nested Python structures with tensors inside and integer dict keys.
Pickle would store them in one go but executes code on load; instead the tensors go to a
``safetensors`` file and the rest to JSON, with dict keys' types preserved so that the state comes back
exactly.

Example:
    >>> import torch
    >>> tensors, skeleton = encode({"state": {0: {"step": torch.tensor(3.0)}}, "lr": 1e-3})
    >>> list(tensors)
    ['state/0/step']
    >>> decode(tensors, skeleton)["state"][0]["step"].item()
    3.0
"""

from __future__ import annotations

from typing import Any

import torch

_TENSOR = "__tensor__"
_DICT = "__dict__"
_TUPLE = "__tuple__"


def encode(obj: Any, prefix: str = "") -> tuple[dict[str, torch.Tensor], Any]:
    """Return ``(tensors, skeleton)``: tensors by path, and a JSON-serialisable skeleton."""
    tensors: dict[str, torch.Tensor] = {}

    def walk(o: Any, path: str) -> Any:
        if isinstance(o, torch.Tensor):
            tensors[path] = o.detach().cpu().contiguous().clone()
            return {_TENSOR: path}
        if isinstance(o, dict):
            items = []
            for k, v in o.items():
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TypeError(f"unsupported key type {type(k).__name__} at {path!r}")
                items.append([k, walk(v, f"{path}/{k}" if path else str(k))])
            return {_DICT: items}
        if isinstance(o, tuple):
            return {_TUPLE: [walk(v, f"{path}/{i}" if path else str(i)) for i, v in enumerate(o)]}
        if isinstance(o, list):
            return [walk(v, f"{path}/{i}" if path else str(i)) for i, v in enumerate(o)]
        if o is None or isinstance(o, (bool, int, float, str)):
            return o
        raise TypeError(f"cannot store a {type(o).__name__} at {path!r} without pickle")

    return tensors, walk(obj, prefix)


def decode(tensors: dict[str, torch.Tensor], skeleton: Any) -> Any:
    """Inverse of :func:`encode`."""

    def walk(o: Any) -> Any:
        if isinstance(o, dict):
            if _TENSOR in o:
                return tensors[o[_TENSOR]]
            if _DICT in o:
                return {k: walk(v) for k, v in o[_DICT]}
            if _TUPLE in o:
                return tuple(walk(v) for v in o[_TUPLE])
            raise ValueError(f"unknown node in state skeleton: {sorted(o)}")
        if isinstance(o, list):
            return [walk(v) for v in o]
        return o

    return walk(skeleton)
