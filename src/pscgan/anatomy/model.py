"""A trained anatomy network: its weights file, and segmenting the slices of a cine stack.

Weights are a safetensors file whose metadata holds the :class:`~.network.AnatomyConfig`, a description
of the training data, the licence of the weights and checksums (checked on load; no pickle).

Example:
    >>> import numpy as np, tempfile, os
    >>> from pscgan.anatomy.network import AnatomyConfig, build_network
    >>> cfg = AnatomyConfig.tiny()
    >>> path = os.path.join(tempfile.mkdtemp(), "anatomy.safetensors")
    >>> save_anatomy_weights(path, build_network(cfg), cfg, training={"data": "doctest"}, licence="none")
    >>> model = AnatomyModel.from_weights(path)
    >>> probs = model.segment_stack(np.random.default_rng(0).random((10, 2, 40, 36)), (1.5, 1.5))
    >>> probs.shape
    (2, 3, 40, 36)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pscgan.anatomy.frames import frame_pair, partner_phase
from pscgan.anatomy.network import AnatomyConfig, build_network
from pscgan.errors import InputError
from pscgan.io.weights_digest import metadata_digest, tensors_digest

FORMAT = "pscgan-anatomy"
VERSION = "1"


def save_anatomy_weights(path: str | Path, network: torch.nn.Module, config: AnatomyConfig, *,
                         training: dict[str, Any], licence: str, half: bool = False) -> None:
    """Write the network's weights with its configuration, training record and licence, atomically."""
    from safetensors.torch import save_file

    from pscgan.io.atomic import atomic_path

    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in network.state_dict().items()}
    if half:
        tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    metadata = {"format": FORMAT, "version": VERSION, "config": config.model_dump_json(),
                "training": json.dumps(training, sort_keys=True), "licence": licence,
                "sha256": tensors_digest(tensors)}
    metadata["metadata_sha256"] = metadata_digest(metadata)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def read_anatomy_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of an anatomy weights file, checked.

    Raises:
        InputError: naming the file: missing, not safetensors, not anatomy weights, or edited.
    """
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = dict(fh.metadata() or {})
    except FileNotFoundError:
        raise InputError(path, "anatomy weights file not found") from None
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types for broken files
        raise InputError(path, f"not a safetensors weights file: {exc}") from None
    if meta.get("format") != FORMAT:
        raise InputError(path, f"not anatomy-network weights (format {meta.get('format')!r}, "
                               f"expected {FORMAT!r})")
    if meta.get("metadata_sha256") != metadata_digest(meta):
        raise InputError(path, "the metadata does not match its checksum: the file was edited or corrupted")
    return meta


class AnatomyModel:
    """A loaded anatomy network.

    Args:
        network: the U-Net from :func:`~.network.build_network`.
        config: its configuration.
        device: torch device.
        flips: average the probabilities over the four mirror images of each slice (test-time
            augmentation; four forward passes per slice).
    """

    def __init__(self, network: torch.nn.Module, config: AnatomyConfig, *, device: str | torch.device = "cpu",
                 flips: bool = True, metadata: dict[str, str] | None = None) -> None:
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()
        self.config = config
        self.flips = flips
        self.metadata = metadata or {}

    @classmethod
    def from_weights(cls, path: str | Path, *, device: str | torch.device = "cpu", flips: bool = True
                     ) -> AnatomyModel:
        """Load a weights file written by :func:`save_anatomy_weights` (checksums verified).

        Raises:
            InputError: naming the file when it is not valid anatomy weights.
        """
        from safetensors.torch import load_file

        path = Path(path)
        meta = read_anatomy_metadata(path)
        try:
            config = AnatomyConfig.model_validate_json(meta["config"])
        except (KeyError, ValueError) as exc:
            raise InputError(path, f"invalid anatomy configuration in the metadata: {exc}") from None
        tensors = load_file(str(path), device="cpu")
        if tensors_digest(tensors) != meta.get("sha256"):
            raise InputError(path, "the weights do not match their checksum: the file is corrupted")
        network = build_network(config)
        state = network.state_dict()
        if set(state) != set(tensors) or any(state[k].shape != tensors[k].shape for k in state):
            raise InputError(path, "the weights do not fit the network their configuration describes")
        network.load_state_dict({k: v.to(state[k].dtype) for k, v in tensors.items()})
        return cls(network, config, device=device, flips=flips, metadata=meta)

    @torch.no_grad()
    def segment_stack(self, cine: np.ndarray, spacing_rc: tuple[float, float], *, ed_phase: int = 0
                      ) -> np.ndarray:
        """Class probabilities of the end-diastolic frame of every slice.

        Args:
            cine: ``(time, slice, rows, cols)`` frames in display orientation.
            spacing_rc: (row, col) pixel spacing in mm.
            ed_phase: the end-diastolic phase.

        Returns:
            ``(slice, 3, rows, cols)`` float32 probabilities (other, blood pool, myocardium) on the
            frames' own grid.
        """
        cine = np.asarray(cine)
        if cine.ndim != 4 or cine.shape[0] < 2:
            raise ValueError(f"cine must be (time >= 2, slice, rows, cols), got {cine.shape}")
        out = []
        for k in range(cine.shape[1]):
            frames = cine[:, k]
            pair = frame_pair(frames[ed_phase], frames[partner_phase(frames, ed_phase)], spacing_rc,
                              spacing_mm=self.config.spacing_mm)
            out.append(self._to_grid(self.probabilities(pair), frames.shape[-2:]))
        return np.stack(out)

    def probabilities(self, pair: np.ndarray) -> np.ndarray:
        """``(3, rows, cols)`` probabilities of one ``(2, rows, cols)`` input on the network's grid."""
        from pscgan.anatomy.train import forward_padded

        x = torch.from_numpy(np.ascontiguousarray(pair, np.float32))[None].to(self.device)
        if not self.config.motion_channel:
            x[:, 1] = -1.0
        dims_list = [(), (2,), (3,), (2, 3)] if self.flips else [()]
        total = torch.zeros((1, 3) + tuple(x.shape[-2:]), device=self.device)
        for dims in dims_list:
            xi = torch.flip(x, dims) if dims else x
            p = torch.softmax(forward_padded(self.network, xi, self.config.multiple), 1)
            total += torch.flip(p, dims) if dims else p
        return (total / len(dims_list))[0].float().cpu().numpy()

    @staticmethod
    def _to_grid(probs: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        from pscgan.preprocessing.spatial import resize_2d

        out = resize_2d(probs, (int(shape[0]), int(shape[1])), order=1)
        out = np.clip(out, 0.0, None)
        return (out / np.maximum(out.sum(0, keepdims=True), 1e-6)).astype(np.float32)


def default_anatomy_weights_path() -> Path | None:
    """The anatomy weights shipped inside the package, or None when this installation has none."""
    from importlib.resources import files

    path = Path(str(files("pscgan") / "weights" / "pscgan-anatomy-acdc.safetensors"))
    return path if path.is_file() else None
