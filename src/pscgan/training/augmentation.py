"""Training augmentation: symmetries of the square (``train.dihedral_augmentation``) and shifts of the
end-diastolic frame (``train.ed_shift_augmentation``).

A training sample is turned by a multiple of 90 degrees and/or mirrored: one of the eight symmetries
of the square (the dihedral group D4). Every spatial field of the sample -- the cine frames, the LGE,
the labels and the condition from the frozen phases -- moves with the same symmetry, exactly (no
interpolation), so labels stay labels and a one-hot condition stays one-hot. The scar is read from the
wall's motion, which a symmetry does not change; what changes is where the heart's landmarks lie (the
right ventricle, the coronary territories), which a network must then find in the image instead of
assuming, as it must on scans planned in another orientation.

A cine enters the networks with its end-diastolic (ED) phase first. On a scan, which phase is ED is a
reading (the R-wave trigger, the largest cavity, an expert's choice) that can differ by a phase or two; a
network trained only on cines that start exactly at ED learns that timing and fails when it is off
(``docs/architecture.md``, "Augmentation"). The ED shift turns the cine's frames cyclically by a few
frames either way; the labels, drawn at ED, stay as they are, so the network must find ED from the motion.

As TorchIO does, a random step draws the parameters and a deterministic step applies them. The draw is
a function of the stream's seed, rank and position alone, so a resumed run draws the same symmetries and
shifts as an uninterrupted one, and what was applied is recorded in the batch (``augmentation``,
``ed_shift``).

Example:
    >>> import torch
    >>> sample = {"labels": torch.tensor([[0, 1], [2, 3]]), "spacing": torch.tensor([1.0, 2.0])}
    >>> turned = apply_symmetry(sample, 1)  # a quarter turn, counter-clockwise
    >>> turned["labels"].tolist(), turned["spacing"].tolist(), turned["augmentation"]
    ([[1, 3], [0, 2]], [2.0, 1.0], 1)
    >>> draw_symmetry(seed=0, rank=0, epoch=0, position=3, probability=0.0)
    0
    >>> cine = torch.arange(4.0).reshape(1, 4, 1, 1)       # (1, frames, H, W)
    >>> apply_ed_shift({"cine": cine}, 1)["cine"].flatten().tolist()   # frame 1 was ED
    [1.0, 2.0, 3.0, 0.0]
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


def draw_ed_shift(*, seed: int, rank: int, epoch: int, position: int, max_frames: int) -> int:
    """The random step of the ED shift: a whole number of frames in ``-max_frames..max_frames``, each equally
    likely (0, no shift, among them), for the sample drawn at ``position`` of ``epoch`` on ``rank``."""
    if max_frames <= 0:
        return 0
    rng = np.random.default_rng([seed, rank, epoch, position, 0xED])
    return int(rng.integers(-max_frames, max_frames + 1))


def apply_ed_shift(sample: dict[str, Any], shift: int) -> dict[str, Any]:
    """The deterministic step: the cine ``(..., frames, H, W)`` read as if its ED were ``shift`` frames
    later (a positive shift) or earlier: frame ``shift`` comes first, cyclically. Only the cine moves."""
    out = dict(sample)
    if shift:
        out["cine"] = torch.roll(out["cine"], -shift, dims=-3).contiguous()
    out["ed_shift"] = shift
    return out
