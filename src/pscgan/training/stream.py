"""An endless, resumable stream of training batches.

The stream's whole state is ``(epoch, position)``; saving it in a checkpoint and restoring it gives the
exact batches an uninterrupted run would have seen.

Example:
    >>> import torch
    >>> data = [{"x": torch.tensor(float(i))} for i in range(5)]
    >>> s = BatchStream(data, batch_size=2, seed=0)
    >>> a = [s.next()["x"].tolist() for _ in range(3)]
    >>> s2 = BatchStream(data, batch_size=2, seed=0); _ = s2.next(); s2.load_state_dict(s.state_dict())
    >>> s.next()["x"].tolist() == s2.next()["x"].tolist()
    True
"""

from __future__ import annotations

from typing import Any, Protocol

from pscgan.training.dataset import collate
from pscgan.training.sampling import EpochOrder


class Samples(Protocol):
    """What batches are drawn from: samples by index (a dataset, a list, a subset)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


class BatchStream:
    """Batches drawn from ``dataset`` in the epoch-seeded order of :class:`EpochOrder`, forever.

    Args:
        dataset: anything indexable returning sample dicts.
        batch_size: samples per batch (per rank).
        seed: run seed (the order of epoch ``e`` depends only on ``(seed, e)``).
        rank: this process's rank.
        world_size: number of processes; each rank sees its own share of every epoch.
        symmetry_probability: probability that a sample is turned and/or mirrored
            (:mod:`pscgan.training.augmentation`); the symmetry is a function of the seed, rank and
            stream position, so it too resumes exactly.
        ed_shift_frames: largest cyclic shift of a sample's cine frames either way (0: none; see
            :func:`pscgan.training.augmentation.apply_ed_shift`), drawn the same way.
    """

    def __init__(self, dataset: Samples, batch_size: int, *, seed: int = 0, rank: int = 0,
                 world_size: int = 1, symmetry_probability: float = 0.0, ed_shift_frames: int = 0) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.symmetry_probability = symmetry_probability
        self.ed_shift_frames = ed_shift_frames
        self.order = EpochOrder(n=len(dataset), seed=seed, rank=rank, world_size=world_size)
        self.epoch = 0
        self.position = 0

    def _next_sample(self) -> dict[str, Any]:
        if self.position >= self.order.per_rank:
            self.epoch += 1
            self.position = 0
        sample = self.dataset[next(self.order.indices(self.epoch, self.position))]
        if self.symmetry_probability > 0.0:
            from pscgan.training.augmentation import apply_symmetry, draw_symmetry

            code = draw_symmetry(seed=self.order.seed, rank=self.order.rank, epoch=self.epoch,
                                 position=self.position, probability=self.symmetry_probability)
            sample = apply_symmetry(sample, code)
        if self.ed_shift_frames > 0:
            from pscgan.training.augmentation import apply_ed_shift, draw_ed_shift

            shift = draw_ed_shift(seed=self.order.seed, rank=self.order.rank, epoch=self.epoch,
                                  position=self.position, max_frames=self.ed_shift_frames)
            sample = apply_ed_shift(sample, shift)
        self.position += 1
        return sample

    def next(self) -> dict[str, Any]:
        return collate([self._next_sample() for _ in range(self.batch_size)])

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> dict[str, Any]:  # a task draws its batches with next(batches)
        return self.next()

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
