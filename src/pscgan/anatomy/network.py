"""Configuration of the anatomy network and the network itself (a MONAI 2D U-Net).

Example:
    >>> import torch
    >>> cfg = AnatomyConfig.tiny()
    >>> net = build_network(cfg)
    >>> tuple(net(torch.zeros(1, 2, 32, 48)).shape)
    (1, 3, 32, 48)
"""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator


class AnatomyConfig(BaseModel):
    """Network, grid and training settings of the anatomy network, saved with its weights.

    The defaults are the shipped network; :meth:`tiny` is for tests.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    spacing_mm: float = Field(1.5, gt=0.25, le=5.0, description="In-plane pixel spacing the network reads.")
    channels: tuple[int, ...] = Field((32, 64, 128, 256, 320), description="U-Net channels per level.")
    num_res_units: int = Field(2, ge=0, le=4)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    window: int = Field(160, ge=32, le=512, description="Training window side (pixels).")
    batch_size: int = Field(16, ge=1, le=1024)
    steps: int = Field(20000, ge=1, le=10_000_000)
    lr: float = Field(1e-3, gt=0.0, le=1.0)
    weight_decay: float = Field(1e-5, ge=0.0)
    validation_interval: int = Field(500, ge=1)
    seed: int = 0
    motion_channel: bool = Field(True, description="Feed |frame - partner| as a second channel (else zeros).")

    @model_validator(mode="after")
    def _check(self) -> AnatomyConfig:
        if not 2 <= len(self.channels) <= 7 or min(self.channels) < 1 or max(self.channels) > 2048:
            raise ValueError("channels must list 2 to 7 levels of 1 to 2048 channels")
        if self.window % self.multiple:
            raise ValueError(f"window must be a multiple of {self.multiple}")
        return self

    @property
    def multiple(self) -> int:
        """Input sides must be multiples of this (one halving per level below the top)."""
        return 2 ** (len(self.channels) - 1)

    @classmethod
    def tiny(cls) -> AnatomyConfig:
        """A few thousand parameters, for tests."""
        return cls(channels=(4, 8, 16), num_res_units=0, window=32, batch_size=4, steps=4,
                   validation_interval=2)


def build_network(config: AnatomyConfig) -> torch.nn.Module:
    """The U-Net: 2 input channels (frame, motion), 3 classes (other, blood pool, myocardium)."""
    from monai.networks.nets import UNet

    return UNet(spatial_dims=2, in_channels=2, out_channels=3, channels=config.channels,
                strides=(2,) * (len(config.channels) - 1), num_res_units=config.num_res_units,
                norm="instance", dropout=config.dropout)
