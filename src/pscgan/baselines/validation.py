"""A baseline's validation: its metrics on the validation subjects, and the score that selects the best
weights, as PSCGAN's phases select theirs: SSIM for pix2pix, scar Dice for scar_unet3d, overall Dice for
monai_unet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from pscgan.baselines.config import BaselineKind
from pscgan.baselines.predict import predict_arrays

if TYPE_CHECKING:
    from pscgan.baselines.tasks import BaselineTask


def validate_baseline(task: BaselineTask, data: Any, device: torch.device) -> dict[str, float | None]:
    """Validation metrics of ``task``'s network on ``data``, with the ``score`` that selects the best
    weights."""
    from pscgan.evaluation.segmentation import SegmentationMetrics
    from pscgan.evaluation.synthesis import SynthesisMetrics

    kind = task.config.kind
    samples = [data[i] for i in range(len(data))]
    pred = predict_arrays(task.network, kind, np.stack([s["cine"][0].numpy() for s in samples]), device)
    if "lge" in pred:
        syn = SynthesisMetrics()
        syn(pred["lge"], np.stack([s["lge"][0].numpy() for s in samples]))
        ssim = syn.aggregate()["ssim"].mean
        return {"ssim": ssim, "score": ssim or 0.0}
    seg = SegmentationMetrics(hd95=False)
    seg(pred["labels"], np.stack([s["labels"].numpy() for s in samples]))
    agg = seg.aggregate()
    scar = agg["per_class"]["scar"]["dice"].mean
    if kind is BaselineKind.SCAR_UNET3D:
        return {"dice_scar": scar, "score": scar or 0.0}
    overall = agg["overall"]["dice"].mean
    return {"dice_overall": overall, "dice_scar": scar, "score": overall or 0.0}
