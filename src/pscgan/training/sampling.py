"""Epoch-seeded, rank-partitioned sample order that can resume in the middle of an epoch.

``torch.utils.data.DistributedSampler`` reshuffles per epoch but cannot start halfway through one, so
a run resumed mid-epoch would see a different sample order than an uninterrupted run. Here the order
of epoch ``e`` is a permutation seeded by ``(seed, e)``, padded to a multiple of the world size and
dealt round-robin to the ranks; ``position`` skips the samples this rank has already consumed.

Example:
    >>> s = EpochOrder(n=10, seed=0)
    >>> full = list(s.indices(epoch=3))
    >>> list(s.indices(epoch=3, position=4)) == full[4:]
    True
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EpochOrder:
    """Sample order for one rank.

    Attributes:
        n: number of samples (or ``pool``'s length).
        seed: run seed.
        rank: this process's rank.
        world_size: number of processes.
        shuffle: permute per epoch (False: natural order, e.g. for validation).
    """

    n: int
    seed: int = 0
    rank: int = 0
    world_size: int = 1
    shuffle: bool = True

    def __post_init__(self) -> None:
        if self.n <= 0:
            raise ValueError("cannot sample from an empty set")
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank {self.rank} outside world of size {self.world_size}")

    @property
    def per_rank(self) -> int:
        """Samples each rank sees per epoch (the set is padded so every rank sees as many)."""
        return -(-self.n // self.world_size)

    def indices(self, epoch: int, position: int = 0) -> Iterator[int]:
        if self.shuffle:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.n)
        else:
            order = np.arange(self.n)
        total = self.per_rank * self.world_size
        if total > self.n:  # pad by wrapping, as DistributedSampler does
            order = np.concatenate([order, order[: total - self.n]])
        mine = order[self.rank::self.world_size]
        yield from (int(i) for i in mine[position:])
