from __future__ import annotations

import pytest

from pscgan.training.sampling import EpochOrder


def test_resume_mid_epoch_gives_the_same_order():
    s = EpochOrder(n=17, seed=3)
    full = list(s.indices(5))
    assert list(s.indices(5, position=9)) == full[9:]
    assert sorted(full) == list(range(17))


def test_epochs_differ_and_seed_reproduces():
    a, b = EpochOrder(n=50, seed=1), EpochOrder(n=50, seed=1)
    assert list(a.indices(0)) == list(b.indices(0))
    assert list(a.indices(0)) != list(a.indices(1))


def test_ranks_partition_the_epoch():
    n, world = 11, 3
    parts = [list(EpochOrder(n=n, seed=0, rank=r, world_size=world).indices(2)) for r in range(world)]
    assert all(len(p) == 4 for p in parts)  # padded to 12
    assert set(sum(parts, [])) == set(range(n))


def test_invalid():
    with pytest.raises(ValueError):
        EpochOrder(n=0)
    with pytest.raises(ValueError):
        EpochOrder(n=3, rank=2, world_size=2)
