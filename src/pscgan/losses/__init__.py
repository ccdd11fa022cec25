"""PSCGAN losses: segmentation (eq. 8-9), adversarial (eq. 10, 14, 16; WGAN-GP, LSGAN), synthetic
regularisation (eq. 11-13), discriminator feature content (eq. 15), pixel-count auxiliary (eq. 17)."""

from __future__ import annotations
