"""Torch views of the packed training cache.

Example:
    >>> # ds = CineLgeDataset(TrainingCache("DATA/pscgan_cache.safetensors"), indices=[0, 1, 2])
    >>> # sample = ds[0]; sample["cine"].shape -> torch.Size([1, 25, 64, 64])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from pscgan.data.cache import TrainingCache
from pscgan.errors import InputError


class CineLgeDataset(torch.utils.data.Dataset):
    """Paired samples for training: cine ``(1, T, H, W)``, LGE ``(1, H, W)``, labels ``(H, W)`` int64.

    Args:
        cache: the packed cache.
        indices: cache positions to expose (a subject-level split part); default all.
        require: fields every exposed sample must have (``"lge"``, ``"labels"``): training needs both.
    """

    def __init__(self, cache: TrainingCache, indices: Sequence[int] | None = None,
                 require: Sequence[str] = ("lge", "labels")) -> None:
        self.cache = cache
        self.indices = list(range(len(cache))) if indices is None else list(indices)
        for field in require:
            flags = cache.arrays[f"has_{field}"]
            missing = [cache.entries[i].subject_id for i in self.indices if not flags[i]]
            if missing:
                raise InputError(cache.path, f"{len(missing)} training slices have no {field} "
                                             f"(e.g. subject {missing[0]}); training needs paired cine, LGE "
                                             "and labels")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict[str, Any]:
        j = self.indices[i]
        arrays = self.cache.arrays
        return {
            "cine": torch.from_numpy(np.array(arrays["cine"][j], dtype=np.float32))[None],
            "lge": torch.from_numpy(np.array(arrays["lge"][j], dtype=np.float32))[None],
            "labels": torch.from_numpy(np.array(arrays["labels"][j], dtype=np.int64)),
            "spacing": torch.from_numpy(np.array(arrays["spacing"][j], dtype=np.float32)),
            "index": j,
        }


def collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack a list of samples into a batch."""
    out: dict[str, Any] = {}
    for key in samples[0]:
        vals = [s[key] for s in samples]
        out[key] = torch.stack(vals) if isinstance(vals[0], torch.Tensor) else torch.tensor(vals)
    return out
