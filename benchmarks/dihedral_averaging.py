"""Does averaging over the eight quarter-turns and mirrors at inference help the cascade or the U-Net?

For finished experiment runs of the cascade and of a segmentation baseline (same test split, same
seeds), each test slice's crop is segmented once as it is and once as the mean of the softmax
probabilities over the 8 dihedral transforms (each undone before averaging); scar Dice is taken per
subject (scar pixels pooled over its slices) in the 64x64 crops the networks see, against the cached
labels. That is the training cache's geometry, not the original one `pscgan evaluate` scores in, so
the numbers are for comparing the four rows here, not for quoting beside Table 1. Pairs for the
Wilcoxon tests are (seed, subject) with scar in either.

Usage::

    python benchmarks/dihedral_averaging.py --data phantom --cascade exp/candIN/full \\
        --baseline exp/unet3/monai_unet --seeds 0 1 2 --out benchmarks/results/dihedral_averaging.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pscgan.labels import Tissue
from pscgan.training.augmentation import SYMMETRIES, apply_symmetry


def _undo(x: torch.Tensor, code: int) -> torch.Tensor:
    """The inverse of ``apply_symmetry``'s symmetry ``code`` on the last two axes."""
    x = torch.flip(x, dims=(-1,)) if code >= 4 else x
    return torch.rot90(x, -(code % 4), dims=(-2, -1))


@torch.no_grad()
def segment(logits_of, cine: torch.Tensor, averaged: bool, batch: int = 32) -> np.ndarray:
    """Labels (N, H, W) from ``logits_of(cine crops) -> (N, C, H, W)``, plain or dihedral-averaged."""
    total = None
    for code in range(SYMMETRIES if averaged else 1):  # the symmetries training draws from
        starts = range(0, len(cine), batch)
        turned = (apply_symmetry({"cine": cine[s:s + batch]}, code)["cine"] for s in starts)
        probs = torch.cat([torch.softmax(logits_of(x), 1) for x in turned])
        probs = _undo(probs, code)
        total = probs if total is None else total + probs
    assert total is not None
    return total.argmax(1).numpy()


def scar_dice_by_subject(pred: np.ndarray, labels: np.ndarray,
                         subjects: list[str]) -> dict[str, float | None]:
    """Scar Dice per subject, its slices taken as one volume (MONAI's ``compute_dice``); None where
    neither has scar."""
    from monai.metrics import compute_dice

    out: dict[str, float | None] = {}
    for s in dict.fromkeys(subjects):
        rows = [i for i, x in enumerate(subjects) if x == s]
        volume = [torch.from_numpy(a[rows] == Tissue.SCAR)[None, None].float() for a in (pred, labels)]
        # a reference without scar still scores the predicted scar (Dice 0), unlike MONAI's default
        either = bool(volume[0].any() or volume[1].any())
        out[s] = float(compute_dice(*volume, include_background=True, ignore_empty=False)) if either else None
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--cascade", type=Path, required=True, help="experiment variant folder with seedN/train")
    ap.add_argument("--baseline", type=Path, required=True, help="baseline variant folder with seedN/train")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    from scipy.stats import wilcoxon

    from pscgan.baselines.weights import load_baseline_weights
    from pscgan.data.cache import TrainingCache, ensure_cache
    from pscgan.models.weights import load_weights
    from pscgan.data.protocol import planned_options, preprocess_options

    torch.set_num_threads(args.threads)
    scores: dict[str, dict[str, float | None]] = {}
    for seed in args.seeds:
        run = args.cascade / f"seed{seed}" / "train"
        cascade, config = load_weights(run / "model.safetensors")
        cascade.eval()
        unet, _ = load_baseline_weights(args.baseline / f"seed{seed}" / "train" / "model.safetensors")
        unet.eval()
        test = json.loads((run / "split.json").read_text())["test"]
        pre = preprocess_options(args.data, register_lge=config.train.register_lge, **planned_options(config))
        cache = TrainingCache(ensure_cache(args.data, pre))
        idx = cache.indices_of(test)
        crops = np.stack([np.asarray(cache.arrays["cine"][j], np.float32) for j in idx])
        cine = torch.from_numpy(crops)[:, None]
        labels = np.stack([np.asarray(cache.arrays["labels"][j]) for j in idx])
        subjects = [cache.entries[j].subject_id for j in idx]
        for name, logits_of in (("cascade", lambda x: cascade(x)["mask_logits"]), ("baseline", unet)):
            for averaged in (False, True):
                dice = scar_dice_by_subject(segment(logits_of, cine, averaged), labels, subjects)
                key = f"{name}, {'dihedral average' if averaged else 'as is'}"
                scores.setdefault(key, {}).update({f"seed{seed}/{s}": d for s, d in dice.items()})
                defined = [d for d in dice.values() if d is not None]
                print(seed, key, round(float(np.mean(defined)), 4), flush=True)
    rows: dict[str, Any] = {
        k: {"scar_dice_mean": float(np.mean([d for d in v.values() if d is not None])),
            "n": sum(d is not None for d in v.values())} for k, v in scores.items()
    }
    tests = {}
    comparisons = [("cascade, as is", "cascade, dihedral average"),
                   ("baseline, as is", "baseline, dihedral average"),
                   ("cascade, as is", "baseline, as is"),
                   ("cascade, dihedral average", "baseline, dihedral average")]
    for a, b in comparisons:
        pairs = [(scores[a][s], scores[b][s]) for s in scores[a]
                 if scores[a][s] is not None and scores[b][s] is not None]
        x, y = np.array(pairs, dtype=float).T
        tests[f"{b} minus {a}"] = {"median": float(np.median(y - x)), "mean": float(np.mean(y - x)),
                                   "p": float(wilcoxon(y, x).pvalue), "n": len(pairs)}
    record = {
        "benchmark": "dihedral_averaging",
        "command": shlex.join(["python", "benchmarks/dihedral_averaging.py", *sys.argv[1:]]),
        "what": "scar Dice per (seed, test subject) in the networks' 64x64 crops against the cached labels; "
                "dihedral average = mean softmax over the 8 quarter-turns and mirrors, each undone",
        "test": "two-sided Wilcoxon signed-rank test (scipy.stats.wilcoxon), pairs = (seed, subject)",
        "seeds": args.seeds, "rows": rows, "paired": tests,
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"rows": rows, "paired": tests}, indent=2))


if __name__ == "__main__":
    main()
