"""Run the trained cascade on prepared slices and map the outputs back to the original geometry.

The synthetic LGE has no absolute intensity scale (neither has a real LGE): it is written in relative
units, the network's [-1, 1] mapped to [0, 1], with 0 outside the LV crop.

Example:
    >>> # p = Predictor.from_weights(default_weights_path())
    >>> # result = p.predict(loaded_input)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pscgan.config.schema import PscganConfig
from pscgan.inference.inputs import LoadedInput
from pscgan.preprocessing.pipeline import PreparedSlice, PreprocessOptions, prepare_arrays
from pscgan.preprocessing.record import to_original_volume


@dataclass
class Prediction:
    """The cascade's outputs for one subject.

    Attributes:
        slices: the prepared network inputs (crops, records).
        lge: (S, H, W) synthetic LGE crops in [-1, 1].
        labels: (S, H, W) uint8 segmentation crops (phase III).
        coarse_labels: (S, H, W) uint8 coarse masks (phase I), when the cascade is progressive.
        lge_original: (x, y, slice) synthetic LGE in the original geometry, relative units [0, 1].
        labels_original: (x, y, slice) segmentation in the original geometry.
    """

    slices: list[PreparedSlice]
    lge: np.ndarray
    labels: np.ndarray
    coarse_labels: np.ndarray | None
    lge_original: np.ndarray
    labels_original: np.ndarray


class Predictor:
    """A loaded cascade plus the preprocessing its configuration needs.

    Args:
        cascade: the trained :class:`~pscgan.models.cascade.Cascade`.
        config: its configuration.
        device: torch device.
        batch_size: slices per forward pass.
        localisation: how the LV is found for the crop (``cine``: from the images only, as on new data).
    """

    def __init__(self, cascade: torch.nn.Module, config: PscganConfig, *, device: str | torch.device = "cpu",
                 batch_size: int = 16, localisation: str = "cine") -> None:
        self.device = torch.device(device)
        self.cascade = cascade.to(self.device).eval()
        self.config = config
        self.batch_size = batch_size
        self.options = PreprocessOptions(n_phases=config.model.frames, crop_size=config.model.image_size,
                                         localisation=localisation)

    @classmethod
    def from_weights(cls, weights: str | Path, **kwargs: object) -> Predictor:
        from pscgan.inference.weights import load_weights

        device = kwargs.get("device", "cpu")
        cascade, config = load_weights(weights, map_location=device)  # type: ignore[arg-type]
        return cls(cascade, config, **kwargs)  # type: ignore[arg-type]

    def prepare(self, item: LoadedInput) -> list[PreparedSlice]:
        info = item.info
        levels = angles = None
        kwargs: dict[str, object] = {}
        if info is not None:
            by_index = {s.index: s for s in info.slices}
            n = item.cine.array.shape[2]
            levels = [by_index[k].level.value if k in by_index else None for k in range(n)]
            angles = [by_index[k].rv_insertion_angle_deg if k in by_index else None for k in range(n)]
            kwargs = {"rr_interval_ms": info.rr_interval_ms, "ed_phase": info.ed_phase}
        return prepare_arrays(item.cine, None, None, self.options, subject_id=item.source.name, levels=levels,
                              angles=angles, **kwargs)

    @torch.no_grad()
    def run(self, slices: list[PreparedSlice]) -> dict[str, np.ndarray]:
        """Forward the prepared slices in batches."""
        outs: dict[str, list[np.ndarray]] = {"lge": [], "labels": [], "coarse": []}
        for start in range(0, len(slices), self.batch_size):
            chunk = slices[start:start + self.batch_size]
            cine = torch.from_numpy(np.stack([s.cine for s in chunk]))[:, None].to(self.device)
            out = self.cascade(cine)
            outs["lge"].append(out["lge"][:, 0].float().cpu().numpy())
            outs["labels"].append(out["mask_logits"].argmax(1).cpu().numpy().astype(np.uint8))
            if "coarse_mask_logits" in out:
                outs["coarse"].append(out["coarse_mask_logits"].argmax(1).cpu().numpy().astype(np.uint8))
        return {k: np.concatenate(v) for k, v in outs.items() if v}

    def predict(self, item: LoadedInput) -> Prediction:
        slices = self.prepare(item)
        out = self.run(slices)
        records = [s.record for s in slices]
        lge01 = np.clip((out["lge"] + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)
        return Prediction(
            slices=slices, lge=out["lge"], labels=out["labels"], coarse_labels=out.get("coarse"),
            lge_original=to_original_volume(list(lge01), records, "image", fill=0.0),
            labels_original=to_original_volume(list(out["labels"]), records, "labels", fill=0))


def default_weights_path() -> Path:
    """The phantom-trained CPU-preset weights shipped inside the package."""
    from importlib.resources import files

    return Path(str(files("pscgan") / "weights" / "pscgan-cpu-phantom.safetensors"))
