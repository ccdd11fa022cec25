"""Random augmentation of anatomy-network batches: sample the parameters, then apply them.

:func:`sample_params` draws one :class:`AugmentParams` per example from a ``torch.Generator`` (so a run
with a seed is reproducible, and the parameters can be logged); :func:`apply` is deterministic given them.
Spatial: rotation by any angle and a mirror flip (scanners and file conventions orient short-axis slices
in every way), isotropic scaling (heart size and pixel spacing), and a crop window anywhere in the frame.
Intensity (first channel; the motion channel is derived from it and gets the same gamma): gamma, a smooth
multiplicative bias field (coil shading), blur and Gaussian noise, which cover much of the difference
between scanners, sequences and the phantom.

Example:
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.zeros(3, 2, 50, 60)
    >>> y = torch.zeros(3, 50, 60, dtype=torch.long)
    >>> params = sample_params(3, g)
    >>> xa, ya = apply(x, y, params, size=32)
    >>> tuple(xa.shape), tuple(ya.shape)
    ((3, 2, 32, 32), (3, 32, 32))
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F


@dataclass
class AugmentParams:
    """Per-example parameters (tensors of length batch)."""

    angle: torch.Tensor       # radians
    flip: torch.Tensor        # 1 or -1 (mirror the column axis)
    scale: torch.Tensor       # > 1 zooms in
    centre: torch.Tensor      # (batch, 2) window centre in [-1, 1] normalised (x, y) coordinates of the frame
    gamma: torch.Tensor
    bias: torch.Tensor        # (batch, 6) coefficients of a quadratic log-bias field
    noise: torch.Tensor       # Gaussian noise sd in the [-1, 1] units
    blur: torch.Tensor        # Gaussian blur sd in pixels (0: none)

    def as_dict(self) -> dict[str, list]:
        """Plain lists, for logging."""
        return {k: v.tolist() for k, v in asdict(self).items()}


def sample_params(n: int, generator: torch.Generator, *, max_scale: float = 1.35, min_scale: float = 0.75,
                  strength: float = 1.0) -> AugmentParams:
    """Draw parameters for ``n`` examples (``strength`` 0 gives the identity at the frame centre)."""
    def u(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(*(shape or (n,)), generator=generator)

    log_scale = u(math.log(min_scale), math.log(max_scale)) * strength
    return AugmentParams(
        angle=u(-math.pi, math.pi) * strength,
        flip=torch.where(torch.rand(n, generator=generator) < 0.5 * strength, -1.0, 1.0),
        scale=torch.exp(log_scale),
        centre=u(-0.8, 0.8, n, 2) * strength,
        gamma=torch.exp(u(-0.5, 0.5) * strength),
        bias=u(-0.3, 0.3, n, 6) * strength,
        noise=u(0.0, 0.08) * strength,
        blur=torch.where(torch.rand(n, generator=generator) < 0.3 * strength, u(0.3, 1.2), torch.zeros(n)),
    )


def apply(inputs: torch.Tensor, labels: torch.Tensor, params: AugmentParams, *, size: int,
          generator: torch.Generator | None = None,
          frame_shapes: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply ``params`` to a batch: ``(B, 2, H, W)`` inputs in [-1, 1] and ``(B, H, W)`` labels.

    Returns ``size`` x ``size`` windows at the frame's pixel spacing divided by ``scale``; outside the
    frame the inputs are -1 (air) and the labels 0. The noise is drawn from ``generator``. Frames of
    different sizes share a batch centred in an ``H`` x ``W`` canvas: ``frame_shapes`` ``(B, 2)`` gives each
    one's (rows, cols), so that the window's centre and scale refer to the frame, not the canvas.
    """
    b, _, canvas_h, canvas_w = inputs.shape
    dev = inputs.device
    p = {k: v.to(dev) for k, v in asdict(params).items()}
    if frame_shapes is None:
        h = torch.full((b,), float(canvas_h), device=dev)
        w = torch.full((b,), float(canvas_w), device=dev)
    else:
        h, w = (frame_shapes[:, i].to(dev, torch.float32) for i in (0, 1))
    cos, sin = torch.cos(p["angle"]), torch.sin(p["angle"])
    # Output pixel (normalised to the window) -> frame coordinates normalised to the frame
    # (align_corners=False), then to the canvas the frame sits in (centred: a frame coordinate scales by
    # frame / canvas size).
    sx, sy = size / w / p["scale"], size / h / p["scale"]
    ex, ey = w / canvas_w, h / canvas_h
    theta = torch.zeros(b, 2, 3, device=dev)
    theta[:, 0, 0] = cos * sx * p["flip"] * ex
    theta[:, 0, 1] = -sin * sy * h / w * ex
    theta[:, 1, 0] = sin * sx * w / h * p["flip"] * ey
    theta[:, 1, 1] = cos * sy * ey
    theta[:, 0, 2] = p["centre"][:, 0] * ex
    theta[:, 1, 2] = p["centre"][:, 1] * ey
    grid = F.affine_grid(theta, [b, 2, size, size], align_corners=False)
    x = F.grid_sample(inputs + 1.0, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1.0
    y = F.grid_sample(labels[:, None].float(), grid, mode="nearest", padding_mode="zeros",
                      align_corners=False)[:, 0].long()
    x = _intensity(x, p, generator)
    return x, y


def _intensity(x: torch.Tensor, p: dict[str, torch.Tensor],
               generator: torch.Generator | None) -> torch.Tensor:
    b, _, s, _ = x.shape
    dev = x.device
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, s, device=dev), torch.linspace(-1, 1, s, device=dev),
                            indexing="ij")
    basis = torch.stack([torch.ones_like(xx), xx, yy, xx * yy, xx**2, yy**2])  # (6, s, s)
    field = torch.exp(torch.einsum("bk,kij->bij", p["bias"], basis))[:, None]
    frame = ((x[:, :1] + 1.0) / 2.0).clamp(0, 1) ** p["gamma"][:, None, None, None]
    frame = (frame * field).clamp(0, 1.5) * 2.0 - 1.0
    motion = ((x[:, 1:] + 1.0) / 2.0).clamp(0, 1) ** p["gamma"][:, None, None, None] * 2.0 - 1.0
    out = torch.cat([frame, motion], 1)
    out = _blur(out, p["blur"])
    noise_device = "cpu" if generator is None else generator.device
    noise = torch.randn(out.shape, generator=generator, device=noise_device)
    out = out + noise.to(dev) * p["noise"][:, None, None, None]
    return out.clamp(-1.0, 2.0)


def _blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur with a per-example sd (pixels); sd 0 leaves an example unchanged."""
    radius = 3
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    sig = sigma.clamp_min(1e-3)[:, None]
    k = torch.exp(-0.5 * (t[None] / sig) ** 2)
    k = k / k.sum(1, keepdim=True)  # (B, 2r+1); sd ~0 gives a delta
    b, c, h, w = x.shape
    xr = x.reshape(1, b * c, h, w)
    kr = k.repeat_interleave(c, 0)
    xr = F.conv2d(F.pad(xr, (radius, radius, 0, 0), mode="replicate"), kr[:, None, None, :], groups=b * c)
    xr = F.conv2d(F.pad(xr, (0, 0, radius, radius), mode="replicate"), kr[:, None, :, None], groups=b * c)
    return xr.reshape(b, c, h, w)
