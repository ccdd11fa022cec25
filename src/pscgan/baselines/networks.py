"""The baseline networks. Every one takes PSCGAN's cine input ``(B, 1, T, H, W)`` in [-1, 1].

* :class:`ScarUNet3D` -- MONAI's ``UNet`` in 3D over (T, H, W), strided in space only so every frame
  is kept to the end, where time is collapsed by averaging the logits: ``(B, 1, H, W)`` scar logits.
* :class:`StackedFramesUNet` -- MONAI's 2D ``UNet`` with the T frames as input channels:
  ``(B, 4, H, W)`` class logits.
* :class:`Pix2PixGenerator` -- Isola et al.'s (2017) U-Net generator (4x4 stride-2 convolutions down to
  1x1, skips, instance norm, LeakyReLU 0.2 down / ReLU up, dropout 0.5 in the three decoder blocks
  after the innermost) on the stacked frames: ``(B, 1, H, W)`` LGE with tanh. Its discriminator is
  MONAI's ``PatchDiscriminator`` (the 70x70 PatchGAN for 3 layers) on the frames and LGE stacked.
  Departure: dropout is off at inference (Isola keep it on as noise), so predictions are reproducible.

Parameter counts and cost of one training step (batch 4) at the cpu sizes, from
``python benchmarks/baselines.py --preset cpu --out benchmarks/results/baselines_cpu.json``:
scar_unet3d 121,759 parameters, 6.2 GFLOP/step; monai_unet 409,205, 1.1 GFLOP/step; pix2pix generator
1,834,593 + discriminator 181,201, 1.7 GFLOP/step -- against 25.2-25.5 GFLOP for one PSCGAN cpu-preset
training iteration measured in the same run (and a median step time 0.05-0.29 times PSCGAN's).

Example:
    >>> import torch
    >>> from pscgan.baselines.config import baseline_config
    >>> cfg = baseline_config("scar_unet3d", "tiny")
    >>> net = build_network(cfg)
    >>> cine = torch.zeros(2, 1, cfg.frames, cfg.image_size, cfg.image_size)
    >>> tuple(net(cine).shape), tuple(decode_outputs(cfg.kind, net(cine))["labels"].shape)
    ((2, 1, 16, 16), (2, 16, 16))
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from pscgan.baselines.config import BaselineConfig, BaselineKind
from pscgan.labels import NUM_CLASSES, Tissue


class ScarUNet3D(nn.Module):
    """Binary scar segmentation from the cine by a 3D U-Net; ``forward`` returns scar logits (B, 1, H, W)."""

    def __init__(self, config: BaselineConfig) -> None:
        super().__init__()
        from monai.networks.nets import UNet

        # MONAI takes one stride per dimension too; its annotation names only one per level
        self.unet = UNet(spatial_dims=3, in_channels=1, out_channels=1, channels=config.channels,
                         strides=config.strides,  # type: ignore[arg-type]
                         num_res_units=config.residual_units, norm="instance")

    def forward(self, cine: Tensor) -> Tensor:
        return self.unet(cine).mean(dim=2)  # collapse time at the very end


class StackedFramesUNet(nn.Module):
    """4-class segmentation by MONAI's 2D U-Net on the frames as channels; returns logits (B, 4, H, W)."""

    def __init__(self, config: BaselineConfig) -> None:
        super().__init__()
        from monai.networks.nets import UNet

        self.unet = UNet(
            spatial_dims=2,
            in_channels=config.frames,
            out_channels=NUM_CLASSES,
            channels=config.channels,
            strides=config.strides,  # type: ignore[arg-type]  # per-dimension strides, as above
            num_res_units=config.residual_units,
        )

    def forward(self, cine: Tensor) -> Tensor:
        return self.unet(cine[:, 0])


class Pix2PixGenerator(nn.Module):
    """Isola et al.'s U-Net generator on the stacked frames; returns the LGE (B, 1, H, W) in [-1, 1].

    ``config.channels`` holds one width per stride-2 level; the image side must be ``2 ** levels``.
    """

    def __init__(self, config: BaselineConfig) -> None:
        super().__init__()
        widths, n = config.channels, len(config.channels)
        if config.image_size != 2 ** n:
            raise ValueError(f"{n} levels need a {2 ** n}-pixel image, not {config.image_size}")
        self.down = nn.ModuleList()
        prev = config.frames
        for i, width in enumerate(widths):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(prev, width, 4, stride=2, padding=1))
            if 0 < i < n - 1:  # no norm on the input level nor on the 1x1 innermost one (as Isola)
                layers.append(nn.InstanceNorm2d(width))
            self.down.append(nn.Sequential(*layers))
            prev = width
        self.up = nn.ModuleList()
        for i in reversed(range(n)):  # innermost first
            inputs = widths[i] if i == n - 1 else 2 * widths[i]
            outputs = 1 if i == 0 else widths[i - 1]
            layers = [nn.ReLU(), nn.ConvTranspose2d(inputs, outputs, 4, stride=2, padding=1)]
            if i > 0:
                layers.append(nn.InstanceNorm2d(outputs))
                if n - 4 <= i <= n - 2 and config.dropout > 0:
                    layers.append(nn.Dropout(config.dropout))
            self.up.append(nn.Sequential(*layers))

    def forward(self, cine: Tensor) -> Tensor:
        skips = []
        x = cine[:, 0]
        for block in self.down:
            x = block(x)
            skips.append(x)
        x = self.up[0](skips[-1])
        for block, skip in zip(self.up[1:], reversed(skips[:-1]), strict=True):
            x = block(torch.cat([x, skip], dim=1))
        return torch.tanh(x)


class PatchDiscriminator(nn.Module):
    """pix2pix's conditional PatchGAN (MONAI's): judges the frames and an LGE stacked; returns patch
    logits."""

    def __init__(self, config: BaselineConfig) -> None:
        super().__init__()
        from monai.networks.nets import PatchDiscriminator as MonaiPatchDiscriminator

        self.net = MonaiPatchDiscriminator(
            spatial_dims=2,
            channels=config.discriminator_channels,
            in_channels=config.frames + 1,
            num_layers_d=config.discriminator_layers,
        )

    def forward(self, cine: Tensor, lge: Tensor) -> Tensor:
        return self.net(torch.cat([cine[:, 0], lge], dim=1))[-1]  # MONAI returns every layer's output


def build_network(config: BaselineConfig) -> nn.Module:
    """The network a baseline predicts with (the one its weights file holds)."""
    return {BaselineKind.SCAR_UNET3D: ScarUNet3D, BaselineKind.MONAI_UNET: StackedFramesUNet,
            BaselineKind.PIX2PIX: Pix2PixGenerator}[config.kind](config)


def decode_outputs(kind: BaselineKind, raw: Tensor) -> dict[str, Tensor]:
    """A network's raw output as predictions: ``labels`` (B, H, W) uint8 and/or ``lge`` (B, H, W) in [-1, 1].

    The scar-only segmenter writes scar as 3 and everything else as 0 (its only defined classes).
    """
    if kind is BaselineKind.SCAR_UNET3D:
        scar = (raw[:, 0] > 0).to(torch.uint8)
        return {"labels": scar * int(Tissue.SCAR)}
    if kind is BaselineKind.MONAI_UNET:
        return {"labels": raw.argmax(dim=1).to(torch.uint8)}
    return {"lge": raw[:, 0]}
