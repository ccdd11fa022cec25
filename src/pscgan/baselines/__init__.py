"""Baselines for the paper's Table 6 comparison, trained on the same data as PSCGAN.

* ``scar_unet3d`` -- a 3D conv U-Net over the cine's (T, H, W), time collapsed at the end: binary scar
  segmentation only (other classes, overall metrics and the scar ratio are not defined);
* ``pix2pix`` -- a 2D U-Net generator on the stacked cine frames with a PatchGAN and L1 x 100
  (Isola et al. 2017): synthetic LGE only;
* ``monai_unet`` -- MONAI's 2D ``UNet`` on the stacked frames: 4-class segmentation only.

:func:`train_baseline` writes a resumable run folder and returns the weights file;
:func:`predict_baseline` writes a prediction folder in the layout of ``pscgan predict``, which
:func:`pscgan.evaluation.evaluate.evaluate` scores (what the baseline lacks is reported as n/d).
"""

from __future__ import annotations

from pscgan.baselines.config import BaselineConfig, BaselineKind, baseline_config
from pscgan.baselines.predict import predict_baseline
from pscgan.baselines.train import train_baseline

__all__ = ["BaselineConfig", "BaselineKind", "baseline_config", "predict_baseline", "train_baseline"]
