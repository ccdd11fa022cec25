"""Subject-level k-fold cross-validation: folds, splits, resumable runs and the summary."""

from __future__ import annotations

import json

import pytest

from pscgan.data.layout import read_manifest
from pscgan.errors import ConfigError
from pscgan.experiments.budget import Budget, BudgetKind
from pscgan.experiments.cv import CvOptions, dataset_subjects, fold_split, kfold_subjects, run_cv


@pytest.mark.parametrize(("n", "k"), [(8, 2), (8, 3), (10, 10), (23, 4)])
def test_folds_are_disjoint_cover_everyone_and_are_seeded(n, k):
    subjects = [f"s{i:02d}" for i in range(n)]
    folds = kfold_subjects(subjects, k, seed=3)
    assert len(folds) == k and sorted(s for f in folds for s in f) == subjects
    assert max(map(len, folds)) - min(map(len, folds)) <= 1
    assert folds == kfold_subjects(list(reversed(subjects)), k, seed=3)  # input order does not matter
    for i in range(k):
        split = fold_split(folds, i, 0.2 if n > 10 else 0.0, seed=0)
        assert split["test"] == folds[i]
        assert sorted(split["train"] + split["validation"] + split["test"]) == subjects
        assert not set(split["train"]) & set(split["validation"])


def test_bad_fold_counts():
    with pytest.raises(ConfigError, match="at least 2"):
        kfold_subjects(["a", "b"], 1, seed=0)
    with pytest.raises(ConfigError, match="more than the 2 subjects"):
        kfold_subjects(["a", "b"], 3, seed=0)


def test_two_fold_cross_validation_end_to_end(tiny_ring_dataset, tmp_path):
    out = tmp_path / "cv"
    opts = CvOptions(
        data=tiny_ring_dataset,
        out=out,
        folds=2,
        preset="tiny",
        budget=Budget(BudgetKind.STEPS, 1),
        validation_fraction=0.2,
    )
    events = []
    summary = run_cv(opts, on_fold=lambda i, s: events.append((i, s)))
    manifest = read_manifest(tiny_ring_dataset)
    everyone = sorted(manifest.split["train"] + manifest.split["test"])
    assert dataset_subjects(tiny_ring_dataset) == everyone
    assert (
        summary["complete"]
        and summary["n_folds_done"] == 2
        and events == [(0, "start"), (0, "done"), (1, "start"), (1, "done")]
    )
    held_out = []
    for i in range(2):
        done = json.loads((out / f"fold{i}" / "done.json").read_text())
        split = json.loads((out / f"fold{i}" / "train" / "split.json").read_text())
        assert sorted(done["subjects"]) == split["test"] and not set(split["test"]) & set(split["train"])
        held_out += split["test"]
    assert sorted(held_out) == everyone  # every subject evaluated exactly once
    dice = summary["quantities"]["segmentation.overall.dice"]
    fold_values = [summary["per_fold"][f"fold{i}"]["segmentation.overall.dice"] for i in range(2)]
    assert dice["n"] == 2 and dice["mean"] == pytest.approx(sum(fold_values) / 2)
    md = (out / "cv_summary.md").read_text()
    assert "2-fold subject-level cross-validation" in md and "| Overall |" in md and "Pearson's r" in md
    assert (out / "cv_summary.csv").read_text().startswith("quantity,mean,sd,n_folds_defined")
    again = run_cv(opts, on_fold=lambda i, s: events.append((i, s)))
    assert events[-2:] == [(0, "skipped"), (1, "skipped")] and again["quantities"] == summary["quantities"]
