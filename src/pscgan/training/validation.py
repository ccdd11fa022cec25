"""Validation of the phase being trained, on held-out training subjects, and PNG samples.

The score that selects a phase's best checkpoint: for mask phases the *pooled* Dice of blood pool,
healthy myocardium and scar (true and false positives summed over all validation slices, then averaged
over the three classes), SSIM for the synthesis phase, their mean for the joint variant. Pooled, not
the per-slice mean: per slice, a few false scar pixels on one of the many slices without scar turn an
undefined scar Dice into 0 and pull that slice's mean down by a third, while missing every scar costs a
scarred slice no more, so the per-slice mean would select models that never predict scar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pscgan.evaluation.segmentation import SegmentationMetrics
from pscgan.evaluation.synthesis import SynthesisMetrics
from pscgan.models.interfaces import LGE, MASK_LOGITS
from pscgan.models.phase import Phase
from pscgan.training.conditions import Subset
from pscgan.training.dataset import collate


@torch.no_grad()
def predict_subset(generator: nn.Module, data: Subset, device: torch.device, batch_size: int = 16
                   ) -> dict[str, np.ndarray]:
    """Run ``generator`` over ``data``; returns stacked ``mask`` labels and/or ``lge`` images."""
    generator.eval()
    masks, lges = [], []
    for start in range(0, len(data), batch_size):
        batch = collate([data[i] for i in range(start, min(start + batch_size, len(data)))])
        out = generator(
            batch["cine"].to(device), batch["condition"].to(device) if "condition" in batch else None
        )
        if MASK_LOGITS in out:
            masks.append(out[MASK_LOGITS].argmax(1).cpu().numpy().astype(np.uint8))
        if LGE in out:
            lges.append(out[LGE][:, 0].float().cpu().numpy())
    generator.train()
    result = {}
    if masks:
        result["mask"] = np.concatenate(masks)
    if lges:
        result["lge"] = np.concatenate(lges)
    return result


def pooled_dice(pred: np.ndarray, ref: np.ndarray) -> float:
    """Mean over the three tissue classes of the Dice of all slices pooled (summed over ranks too).

    A class absent from both prediction and reference everywhere counts as 1 (nothing to find, nothing
    found).
    """
    from pscgan.evaluation.segmentation import TISSUE_CLASSES, confusion_counts
    from pscgan.evaluation.summary import gather_across_ranks

    counts = [confusion_counts(p, r) for p, r in zip(pred, ref, strict=True)]
    total = np.sum(gather_across_ranks(counts), axis=0)  # (classes, [TP, FP, TN, FN])
    dice = []
    for c in TISSUE_CLASSES:
        tp, fp, _, fn = total[int(c)]
        dice.append(1.0 if tp + fp + fn == 0 else 2.0 * tp / (2.0 * tp + fp + fn))
    return float(np.mean(dice))


def validate(phase: Phase, generator: nn.Module, data: Subset, device: torch.device) -> dict[str, Any]:
    """Metrics of ``generator`` on the validation subset, with the phase's selection ``score``."""
    pred = predict_subset(generator, data, device)
    metrics: dict[str, Any] = {}
    scores = []
    if "mask" in pred:
        ref = np.stack([data[i]["labels"].numpy() for i in range(len(data))])
        seg = SegmentationMetrics(hd95=False)
        seg(pred["mask"], ref)
        agg = seg.aggregate()
        metrics["dice_overall"] = agg["overall"]["dice"].mean
        metrics["dice_pooled"] = pooled_dice(pred["mask"], ref)
        metrics["accuracy_overall"] = agg["overall"]["accuracy"].mean
        for name in ("lv_blood_pool", "healthy_myocardium", "scar"):
            metrics[f"dice_{name}"] = agg["per_class"][name]["dice"].mean
        scores.append(metrics["dice_pooled"])
    if "lge" in pred:
        ref = np.stack([data[i]["lge"][0].numpy() for i in range(len(data))])
        syn = SynthesisMetrics()
        syn(pred["lge"], ref)
        agg = syn.aggregate()
        metrics["ssim"], metrics["psnr_db"], metrics["nrmse"] = (agg["ssim"].mean, agg["psnr_db"].mean,
                                                                 agg["nrmse"].mean)
        scores.append(metrics["ssim"] or 0.0)
    metrics["score"] = float(np.mean(scores))
    return metrics


_LABEL_COLOURS = np.array([[0, 0, 0], [230, 159, 0], [86, 180, 233], [213, 94, 0]], np.uint8)


def save_sample_png(path: Path, phase: Phase, generator: nn.Module, data: Subset, device: torch.device,
                    n: int = 3) -> None:
    """A PNG of the first ``n`` validation slices: cine ED frame, prediction and reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pscgan.io.atomic import atomic_path

    sub = Subset(data.samples, data.indices[:n])
    pred = predict_subset(generator, sub, device)
    cols = 1 + 2 * len(pred)
    fig, axes = plt.subplots(len(sub), cols, figsize=(2.2 * cols, 2.2 * len(sub)), squeeze=False)
    for r in range(len(sub)):
        s = sub[r]
        panels: list[tuple[str, Any, str | None]] = [("cine ED", s["cine"][0, 0].numpy(), "gray")]
        if "lge" in pred:
            panels += [("LGE predicted", pred["lge"][r], "gray"), ("LGE real", s["lge"][0].numpy(), "gray")]
        if "mask" in pred:
            panels += [("mask predicted", _LABEL_COLOURS[pred["mask"][r]], None),
                       ("mask true", _LABEL_COLOURS[s["labels"].numpy()], None)]
        for c, (title, img, cmap) in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(img, cmap=cmap, vmin=-1 if cmap else None, vmax=1 if cmap else None)
            ax.set_axis_off()
            if r == 0:
                ax.set_title(title, fontsize=8)
    fig.suptitle(f"phase {phase.value}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
