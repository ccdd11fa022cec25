"""Baselines trained for a few steps on the tiny ring dataset, shared by the baseline tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pscgan.data.layout import read_manifest



@pytest.fixture(scope="session")
def baseline_split(tiny_ring_dataset) -> dict[str, list[str]]:
    """The dataset's split, with one training subject held out for validation."""
    parts = read_manifest(tiny_ring_dataset).split
    train = sorted(parts["train"])
    return {"train": train[1:], "validation": train[:1], "test": sorted(parts["test"])}


@pytest.fixture(scope="session")
def trained_baselines(tiny_ring_dataset, baseline_split, tmp_path_factory) -> dict[str, Path]:
    """Weights of each kind after 3 steps (tiny sizes)."""
    from pscgan.baselines import BaselineKind, train_baseline

    root = tmp_path_factory.mktemp("baselines")
    return {k.value: train_baseline(k.value, tiny_ring_dataset, root / k.value, steps=3, seed=0, device="cpu",
                                    split=baseline_split, preset="tiny") for k in BaselineKind}


@pytest.fixture(scope="session")
def baseline_predictions(trained_baselines, tiny_ring_dataset, tmp_path_factory) -> dict[str, Path]:
    """Each kind's prediction folder for the dataset's test subjects."""
    from pscgan.baselines import predict_baseline

    root = tmp_path_factory.mktemp("baseline-predictions")
    out = {}
    for kind, weights in trained_baselines.items():
        summary = predict_baseline(weights, tiny_ring_dataset, root / kind)
        assert summary["failures"] == [], summary["failures"]
        out[kind] = root / kind
    return out
