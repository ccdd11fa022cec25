"""Augmentation: symmetries of the square and ED shifts, exact, consistent across fields, reproducible."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pscgan.training.augmentation import (
    SYMMETRIES,
    apply_ed_shift,
    apply_symmetry,
    draw_ed_shift,
    draw_symmetry,
)
from pscgan.training.stream import BatchStream


def _sample(seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 4, (6, 6), generator=g)
    return {
        "cine": labels[None, None].float().repeat(1, 3, 1, 1) + torch.arange(3.0)[None, :, None, None],
        "lge": labels[None].float() * 2.0,
        "labels": labels,
        "condition": torch.nn.functional.one_hot(labels, 4).permute(2, 0, 1).float(),
        "spacing": torch.tensor([1.0, 1.5]),
        "index": 7,
    }


@pytest.mark.parametrize("code", range(SYMMETRIES))
def test_every_field_moves_with_the_same_symmetry_as_numpy_rot90_and_fliplr(code):
    s = _sample()
    out = apply_symmetry(s, code)
    expected = np.rot90(s["labels"].numpy(), code % 4)
    expected = np.fliplr(expected) if code >= 4 else expected
    assert torch.equal(out["labels"], torch.from_numpy(expected.copy()))
    assert out["labels"].dtype == torch.int64
    # the other fields are functions of the labels: they must still be the same functions of them
    assert torch.equal(out["lge"][0], out["labels"].float() * 2.0)
    assert torch.equal(out["cine"][0, 2], out["labels"].float() + 2.0)
    assert torch.equal(out["condition"].argmax(0), out["labels"])
    assert set(out["condition"].unique().tolist()) == {0.0, 1.0}  # one-hot stays one-hot
    swapped = code % 2 == 1
    assert out["spacing"].tolist() == ([1.5, 1.0] if swapped else [1.0, 1.5])
    assert out["index"] == 7 and out["augmentation"] == code
    assert torch.equal(s["labels"], _sample()["labels"])  # the input sample is unchanged


def test_the_eight_symmetries_are_distinct_and_zero_is_the_identity():
    s = _sample()
    images = {tuple(apply_symmetry(s, c)["labels"].flatten().tolist()) for c in range(SYMMETRIES)}
    assert len(images) == SYMMETRIES
    assert torch.equal(apply_symmetry(s, 0)["cine"], s["cine"])
    with pytest.raises(ValueError, match="symmetry code"):
        apply_symmetry(s, SYMMETRIES)


def test_draws_are_reproducible_uniform_over_the_others_and_follow_the_probability():
    def draws(p):
        return [draw_symmetry(seed=3, rank=0, epoch=e, position=i, probability=p)
                for e in range(4) for i in range(500)]

    assert draws(1.0) == draws(1.0)
    always = np.bincount(draws(1.0), minlength=SYMMETRIES)
    assert always[0] == 0 and always[1:].min() > 0.8 * always[1:].mean()
    assert set(draws(0.0)) == {0}
    half = np.mean(np.array(draws(0.5)) == 0)
    assert 0.45 < half < 0.55
    # another rank draws other symmetries at the same position
    assert draws(1.0) != [draw_symmetry(seed=3, rank=1, epoch=e, position=i, probability=1.0)
                          for e in range(4) for i in range(500)]


def test_an_augmented_stream_resumes_with_the_same_batches():
    data = [_sample(i) for i in range(5)]
    a = BatchStream(data, batch_size=2, seed=1, symmetry_probability=1.0)
    for _ in range(4):  # past the end of the first epoch
        a.next()
    b = BatchStream(data, batch_size=2, seed=1, symmetry_probability=1.0)
    b.load_state_dict(a.state_dict())
    for _ in range(3):
        x, y = a.next(), b.next()
        assert torch.equal(x["labels"], y["labels"]) and torch.equal(x["augmentation"], y["augmentation"])
    plain = BatchStream(data, batch_size=2, seed=1).next()
    assert "augmentation" not in plain


def test_an_ed_shift_rolls_the_cine_frames_only():
    s = _sample(2)
    for shift in (-2, -1, 0, 1, 3):
        out = apply_ed_shift(s, shift)
        assert out["ed_shift"] == shift
        for t in range(3):  # output frame t is input frame t + shift, cyclically
            assert torch.equal(out["cine"][0, t], s["cine"][0, (t + shift) % 3])
        assert out["labels"] is s["labels"] and out["lge"] is s["lge"] and out["condition"] is s["condition"]
    assert torch.equal(apply_ed_shift(apply_ed_shift(s, 2), -2)["cine"], s["cine"])  # shifts undo each other


def test_ed_shift_draws_are_reproducible_and_uniform_over_minus_n_to_n():
    def draws(n, rank=0):
        return [draw_ed_shift(seed=3, rank=rank, epoch=e, position=i, max_frames=n)
                for e in range(3) for i in range(700)]

    assert draws(2) == draws(2) and draws(2) != draws(2, rank=1)
    counts = np.bincount(np.array(draws(2)) + 2, minlength=5)
    assert len(counts) == 5 and counts.min() > 0.8 * counts.mean()
    assert set(draws(0)) == {0}


def test_a_stream_with_ed_shifts_resumes_with_the_same_batches_and_records_them():
    data = [_sample(i) for i in range(5)]
    a = BatchStream(data, batch_size=2, seed=1, symmetry_probability=0.5, ed_shift_frames=2)
    for _ in range(4):
        a.next()
    b = BatchStream(data, batch_size=2, seed=1, symmetry_probability=0.5, ed_shift_frames=2)
    b.load_state_dict(a.state_dict())
    shifts = []
    for _ in range(3):
        x, y = a.next(), b.next()
        assert torch.equal(x["cine"], y["cine"]) and torch.equal(x["ed_shift"], y["ed_shift"])
        shifts += x["ed_shift"].tolist()
    assert set(shifts) <= {-2, -1, 0, 1, 2}
    assert "ed_shift" not in BatchStream(data, batch_size=2, seed=1).next()
