"""Run the trained cascade on prepared slices and map the outputs back to the original geometry.

The synthetic LGE has no absolute intensity scale (neither has a real LGE): it is written in relative
units, the network's [-1, 1] mapped to [0, 1], with 0 outside the LV crop.

With an anatomy network (:mod:`pscgan.anatomy`, the default when the package ships one) the LV is found
by it (``localisation="detector"``), the crop's field of view follows the heart's size
(:data:`FOV_HEART_RANGE`), and the segmentation's blood pool and myocardium are the anatomy network's:
the cascade, which learned anatomy from the phantom only, marks scar inside that myocardium
(:func:`fuse_anatomy`). Without one, the cascade does everything, as the paper describes.

Example:
    >>> # p = Predictor.from_weights(default_weights_path())
    >>> # result = p.predict(loaded_input)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from pscgan.config.schema import PscganConfig
from pscgan.errors import ConfigError, InputError
from pscgan.data.protocol import planned_options
from pscgan.inference.inputs import InputKind, LoadedInput
from pscgan.labels import Tissue
from pscgan.preprocessing.pipeline import PreparedSlice, PreprocessOptions, prepare_arrays
from pscgan.preprocessing.record import SliceRecord, to_original_volume

if TYPE_CHECKING:
    from pscgan.anatomy.model import AnatomyModel

FOV_HEART_RANGE = (1.14, 1.51)
"""Crop field of view / the subject's largest end-diastolic LV diameter that a model trained without the
field-of-view rule is given with the anatomy network: the 5th-95th percentile of the phantom cohort the
bundled cascade was trained on (``benchmarks/results/phantom_fov_ratio.json``). A heart in that range keeps
its native spacing (the phantom, as trained); a larger or smaller one is resampled to the nearer bound, so
the cascade sees real hearts at a scale it learned."""


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
        end_diastole: which input phase was read as end-diastole, of how many, and why (see
            :func:`end_diastole_record`): every network input starts there, and the result depends on it.
    """

    slices: list[PreparedSlice]
    lge: np.ndarray
    labels: np.ndarray
    coarse_labels: np.ndarray | None
    lge_original: np.ndarray
    labels_original: np.ndarray
    end_diastole: dict[str, Any] | None = None


def end_diastole_record(phase: int, phases: int, source: str) -> dict[str, Any]:
    """``{"phase": 0-based input phase, "phases": count, "from": where the choice came from}``.

    Example:
        >>> end_diastole_record(18, 20, "subject.json")
        {'phase': 18, 'phases': 20, 'from': 'subject.json'}
    """
    return {"phase": int(phase), "phases": int(phases), "from": source}


class Predictor:
    """A loaded cascade plus the preprocessing its configuration needs.

    Args:
        cascade: the trained :class:`~pscgan.models.cascade.Cascade`.
        config: its configuration.
        device: torch device.
        batch_size: slices per forward pass.
        localisation: how the LV is found for the crop (``cine``: from the images only, as on new data).
        ed_phase: the end-diastolic phase of every input, in place of its ``subject.json``'s (or of
            phase 0, the trigger, for a cine file or DICOM series): the networks read the cine from ED on,
            and the cascade's scar depends on that reading (``docs/results.md``, "Robustness to the
            end-diastolic phase").
    """

    def __init__(self, cascade: torch.nn.Module, config: PscganConfig, *, device: str | torch.device = "cpu",
                 batch_size: int = 16, localisation: str | None = None, anatomy: AnatomyModel | None = None,
                 fov_heart_ratio: float | tuple[float, float] | None = None,
                 ed_phase: int | None = None) -> None:
        self.device = torch.device(device)
        self.cascade = cascade.to(self.device).eval()
        self.config = config
        self.batch_size = batch_size
        self.anatomy = anatomy  # a pscgan.anatomy.model.AnatomyModel, or None
        if ed_phase is not None and ed_phase < 0:
            raise ConfigError(None, f"the end-diastolic phase must be 0 or more, got {ed_phase}")
        self.ed_phase = ed_phase
        if localisation is None:
            localisation = "detector" if anatomy is not None else "cine"
        # The model's plan; a model trained with the field-of-view rule is fed with its own ratio, others
        # get the phantom's proportion when the anatomy network can measure the heart.
        planned = planned_options(config)
        if fov_heart_ratio is None and anatomy is not None:
            fov_heart_ratio = planned["fov_heart_ratio"] or FOV_HEART_RANGE
        if fov_heart_ratio is not None:
            planned["fov_heart_ratio"] = fov_heart_ratio
        self.options = PreprocessOptions(**planned, localisation=localisation)
        self._anatomy_probs: np.ndarray | None = None

    @classmethod
    def from_weights(cls, weights: str | Path | Sequence[str | Path], *,
                     anatomy_weights: str | Path | None = None,
                     device: str | torch.device = "cpu", **kwargs: Any) -> Predictor:
        """Load the cascade (several files: their :class:`~pscgan.models.ensemble.CascadeEnsemble`, fed
        as the first one's configuration plans) and, with ``anatomy_weights``, the anatomy network;
        ``kwargs`` as for the constructor.

        Raises:
            InputError: a weights file cannot be loaded, or an ensemble's members would be fed differently.
        """
        from pscgan.models.weights import load_weights

        paths = [Path(weights)] if isinstance(weights, (str, Path)) else [Path(w) for w in weights]
        loaded = [load_weights(path, map_location=device) for path in paths]
        cascade, config = loaded[0]
        if len(loaded) > 1:
            from pscgan.models.ensemble import CascadeEnsemble, check_members_agree

            check_members_agree([c for _, c in loaded], paths)
            cascade = CascadeEnsemble([m for m, _ in loaded])
        anatomy = None
        if anatomy_weights is not None:
            from pscgan.anatomy.model import AnatomyModel

            anatomy = AnatomyModel.from_weights(anatomy_weights, device=device)
        return cls(cascade, config, anatomy=anatomy, device=device, **kwargs)

    def prepare(self, item: LoadedInput) -> list[PreparedSlice]:
        info = item.info
        levels = angles = None
        kwargs: dict[str, Any] = {"ed_phase": self.end_diastole(item)["phase"]}
        if info is not None:
            levels, angles = info.slice_metadata(item.cine.array.shape[2])
            kwargs["rr_interval_ms"] = info.rr_interval_ms
        self._anatomy_probs = None
        if self.anatomy is not None:
            kwargs["locator"] = self._locate
        return prepare_arrays(item.cine, None, None, self.options, subject_id=item.source.name, levels=levels,
                              angles=angles, **kwargs)

    def end_diastole(self, item: LoadedInput) -> dict[str, Any]:
        """The input phase read as end-diastole (:func:`end_diastole_record`): ``--ed-phase`` where given,
        else ``subject.json``'s, else the first phase (a DICOM series' earliest trigger time).

        Raises:
            InputError: the cine lacks the phase asked for.
        """
        phases = item.cine.array.shape[3]
        if self.ed_phase is not None:
            if self.ed_phase >= phases:
                raise InputError(item.source.path, f"has {phases} phases (0..{phases - 1}); the "
                                                   f"end-diastolic phase {self.ed_phase} asked for is not "
                                                   "among them")
            return end_diastole_record(self.ed_phase, phases, "asked for (--ed-phase)")
        if item.info is not None:
            return end_diastole_record(item.info.ed_phase, phases, "subject.json")
        first = ("the earliest trigger time of the series" if item.source.kind is InputKind.DICOM
                 else "the first phase of the input")
        return end_diastole_record(0, phases, first)

    def _locate(self, cine: np.ndarray, spacing_rc: tuple[float, float], ed_phase: int) -> list:
        """The pipeline's LV detector: the anatomy network's probabilities, kept for :func:`fuse_anatomy`."""
        from pscgan.anatomy.localise import locate_from_probabilities

        assert self.anatomy is not None  # the locator is set only with an anatomy network
        probs = self.anatomy.segment_stack(cine, spacing_rc, ed_phase=ed_phase)
        self._anatomy_probs = probs
        return locate_from_probabilities(probs, spacing_rc)

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
        labels_original = None
        if self._anatomy_probs is not None:
            cascade = out["labels"]
            out["labels"] = np.stack([fuse_anatomy(labels, probs_on_crop(p, r))
                                      for labels, p, r in zip(cascade, self._anatomy_probs, records)])
            # In the original geometry the anatomy is taken at its own resolution, not through the crop's
            # coarser grid (a dilated heart's crop has pixels of 2 mm or more): a thin wall keeps its edges.
            labels_original = np.stack([fuse_native(c, p, r).T for c, p, r
                                        in zip(cascade, self._anatomy_probs, records)], axis=2)
        lge01 = np.clip((out["lge"] + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)
        if labels_original is None:
            labels_original = to_original_volume(list(out["labels"]), records, "labels", fill=0)
        return Prediction(
            slices=slices, lge=out["lge"], labels=out["labels"], coarse_labels=out.get("coarse"),
            lge_original=to_original_volume(list(lge01), records, "image", fill=0.0),
            labels_original=labels_original, end_diastole=self.end_diastole(item))


def probs_on_crop(probs: np.ndarray, record: SliceRecord) -> np.ndarray:
    """``(3, rows, cols)`` anatomy probabilities of a slice's original grid on its network crop."""
    from pscgan.preprocessing.crop import crop_array
    from pscgan.preprocessing.spatial import apply_inplane

    on_grid = apply_inplane(np.asarray(probs, np.float32), record.inplane, order=1)
    cropped = crop_array(on_grid, record.crop, 0.0)
    background = crop_array(np.zeros(on_grid.shape[-2:], bool), record.crop, True)
    cropped[0][background] = 1.0  # outside the image: "other"
    return cropped


def fuse_anatomy(cascade_labels: np.ndarray, anatomy_probs: np.ndarray) -> np.ndarray:
    """The final segmentation: blood pool and myocardium from the anatomy network, scar from the cascade
    inside that myocardium.

    Example:
        >>> import numpy as np
        >>> cascade = np.array([[0, 3, 2, 3]], np.uint8)
        >>> anatomy = np.zeros((3, 1, 4), np.float32)
        >>> anatomy[[0, 2, 2, 1], 0, [0, 1, 2, 3]] = 1.0     # other, myocardium, myocardium, blood pool
        >>> fuse_anatomy(cascade, anatomy).tolist()
        [[0, 3, 2, 1]]
    """
    from pscgan.anatomy.frames import AnatomyClass

    anatomy = np.asarray(anatomy_probs).argmax(0)
    out = np.zeros(cascade_labels.shape, np.uint8)
    out[anatomy == AnatomyClass.BLOOD_POOL] = Tissue.BLOOD_POOL
    myo = anatomy == AnatomyClass.MYOCARDIUM
    out[myo] = Tissue.MYOCARDIUM
    out[myo & (cascade_labels == Tissue.SCAR)] = Tissue.SCAR
    return out


def fuse_native(cascade_labels: np.ndarray, anatomy_probs: np.ndarray, record: SliceRecord) -> np.ndarray:
    """:func:`fuse_anatomy` on the slice's original grid ``(rows, cols)``: the anatomy network's classes
    there, the cascade's scar mapped back from the crop, nothing outside the crop."""
    from pscgan.preprocessing.record import to_original_geometry

    inside = to_original_geometry(np.ones(cascade_labels.shape, np.uint8), record, kind="labels") > 0
    scar = to_original_geometry(cascade_labels, record, kind="labels")
    fused = fuse_anatomy(scar, anatomy_probs)
    fused[~inside] = 0
    return fused


def default_weights_path() -> Path:
    """The phantom-trained CPU-preset weights shipped inside the package."""
    from importlib.resources import files

    return Path(str(files("pscgan") / "weights" / "pscgan-cpu-phantom.safetensors"))
