"""Inference: trained weights, and prediction on new contrast-free cine data."""

from __future__ import annotations
