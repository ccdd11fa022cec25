"""Imaging metrics of the paper (section 6.5): segmentation accuracy, sensitivity, specificity, Dice,
95th-percentile Hausdorff distance, and SSIM / PSNR / NRMSE of the synthetic LGE.

Metrics follow MONAI's pattern: call the metric object on each batch, then ``aggregate()``; values
are kept per sample so that means, standard deviations and paired tests can be computed, and so that
results from several distributed ranks can be gathered before aggregation.
"""

from __future__ import annotations

from pscgan.evaluation.segmentation import SegmentationMetrics
from pscgan.evaluation.summary import Summary, summarise
from pscgan.evaluation.synthesis import NrmseNormalisation, SynthesisMetrics

__all__ = ["NrmseNormalisation", "SegmentationMetrics", "Summary", "SynthesisMetrics", "summarise"]
