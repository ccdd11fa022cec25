"""Symmetries of the square as training augmentation (``train.dihedral_augmentation``).

A training sample is turned by a multiple of 90 degrees and/or mirrored: one of the eight symmetries
of the square (the dihedral group D4). Every spatial field of the sample -- the cine frames, the LGE,
the labels and the condition from the frozen phases -- moves with the same symmetry, exactly (no
interpolation), so labels stay labels and a one-hot condition stays one-hot. The scar is read from the
wall's motion, which a symmetry does not change; what changes is where the heart's landmarks lie (the
right ventricle, the coronary territories), which a network must then find in the image instead of
assuming, as it must on scans planned in another orientation.

As TorchIO does, a random step draws the parameters and a deterministic step applies them. The draw is
a function of the stream's seed, rank and position alone, so a resumed run draws the same symmetries as
an uninterrupted one, and the symmetry applied is recorded in the batch (``augmentation``).

Example:
    >>> import torch
    >>> sample = {"labels": torch.tensor([[0, 1], [2, 3]]), "spacing": torch.tensor([1.0, 2.0])}
    >>> turned = apply_symmetry(sample, 1)  # a quarter turn, counter-clockwise
    >>> turned["labels"].tolist(), turned["spacing"].tolist(), turned["augmentation"]
    ([[1, 3], [0, 2]], [2.0, 1.0], 1)
    >>> draw_symmetry(seed=0, rank=0, epoch=0, position=3, probability=0.0)
    0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

#: sample fields whose last two axes are the image plane
SPATIAL_FIELDS = ("cine", "lge", "labels", "condition")
#: the eight symmetries: ``k`` quarter turns counter-clockwise, then a left-right mirror when ``code >= 4``
SYMMETRIES = 8


def draw_symmetry(*, seed: int, rank: int, epoch: int, position: int, probability: float) -> int:
    """The random step: the symmetry code (0 the identity, 1-7 the others, equally likely) of the sample
    drawn at ``position`` of ``epoch`` on ``rank``; with ``1 - probability`` the identity."""
    if probability <= 0.0:
        return 0
    rng = np.random.default_rng([seed, rank, epoch, position, 0xD4])
    if rng.random() >= probability:
        return 0
    return int(rng.integers(1, SYMMETRIES))


def apply_symmetry(sample: dict[str, Any], code: int) -> dict[str, Any]:
    """The deterministic step: ``sample`` with symmetry ``code`` applied to its spatial fields (a new
    dict; the tensors are new, the input is unchanged); odd quarter turns swap the pixel spacing's two
    axes."""
    if not 0 <= code < SYMMETRIES:
        raise ValueError(f"symmetry code must lie in 0..{SYMMETRIES - 1}, got {code}")
    out = dict(sample)
    turns, mirror = code % 4, code >= 4
    for name in SPATIAL_FIELDS:
        if name in out:
            image = torch.rot90(out[name], turns, dims=(-2, -1))
            out[name] = (torch.flip(image, dims=(-1,)) if mirror else image).contiguous()
    if turns % 2 and "spacing" in out:
        out["spacing"] = torch.flip(out["spacing"], dims=(0,))
    out["augmentation"] = code
    return out
