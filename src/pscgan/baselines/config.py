"""The baselines of the paper's Table 6 comparison and their hyper-parameters.

Every baseline reads the same network input as PSCGAN (the preprocessed cine, ``frames`` x
``image_size`` x ``image_size`` in [-1, 1], from the same training cache) and is trained with Adam.
The input geometry and the LGE registration protocol follow the PSCGAN preset of the same name, so a
baseline and PSCGAN trained with one preset see identical data; the widths are our CPU-sized choices
(the paper gives none for the baselines). Parameter counts and step costs:
``python benchmarks/baselines.py`` -> ``benchmarks/results/baselines_cpu.json``.

Example:
    >>> cfg = baseline_config("monai_unet", "tiny")
    >>> cfg.kind.value, cfg.frames, cfg.image_size, cfg.defined_parts().segmentation_classes
    ('monai_unet', 4, 16, (0, 1, 2, 3))
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pscgan.config.schema import PreprocessingConfig
from pscgan.errors import ConfigError
from pscgan.evaluation.parts import DefinedParts
from pscgan.labels import NUM_CLASSES, Tissue
from pscgan.migrations import BASELINE_CONFIGURATION, migrate


class BaselineKind(str, Enum):
    """A Table 6 baseline."""

    SCAR_UNET3D = "scar_unet3d"  # 3D conv U-Net over (T, H, W), time collapsed: binary scar mask only
    PIX2PIX = "pix2pix"  # 2D U-Net on stacked frames -> LGE, PatchGAN, L1 x 100 (Isola et al. 2017)
    MONAI_UNET = "monai_unet"  # monai.networks.nets.UNet on stacked frames -> 4-class segmentation

    @classmethod
    def parse(cls, kind: str | BaselineKind) -> BaselineKind:
        try:
            return cls(kind)
        except ValueError:
            known = ", ".join(k.value for k in cls)
            raise ConfigError(None, f"unknown baseline {kind!r}; choose one of {known}") from None


class BaselineConfig(BaseModel):
    """Everything that defines a baseline's networks and training (saved in its run and weights).

    Attributes:
        kind: which baseline.
        preset: the PSCGAN preset whose input geometry it uses.
        frames, image_size: network input (cine phases, crop side), as in that preset.
        channels: U-Net widths per level (pix2pix: generator widths per downsampling).
        strides: per-level strides of the MONAI U-Nets (3D: (T, H, W); time is never strided).
        residual_units: residual units per level of the MONAI U-Nets.
        discriminator_channels: first PatchGAN width (pix2pix).
        discriminator_layers: strided PatchGAN layers (pix2pix; 3 is the 70x70 PatchGAN).
        dropout: decoder dropout of the pix2pix generator (the paper's noise source).
        l1_weight: lambda of pix2pix's L1 term.
        batch_size, lr, betas: Adam training.
        log_interval, validation_interval, checkpoint_interval: in steps.
        register_lge: targets registered to the cine end-diastolic frame, as the preset's
            ``train.register_lge`` (the paper's protocol).
        preprocessing: the plan of its input, as the preset's ``preprocessing`` section (used by its
            training, cache and prediction).
        schema_version: :data:`pscgan.migrations.BASELINE_CONFIGURATION`'s; a stored configuration of an
            older version is read through it (:func:`baseline_config_from_dict`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = BASELINE_CONFIGURATION.current
    kind: BaselineKind
    preset: str
    frames: int
    image_size: int
    channels: tuple[int, ...]
    strides: tuple[tuple[int, ...], ...] = ()
    residual_units: int = 0
    discriminator_channels: int = 0
    discriminator_layers: int = 0
    dropout: float = 0.0
    l1_weight: float = 0.0
    batch_size: int = 4
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    log_interval: int = 25
    validation_interval: int = 250
    checkpoint_interval: int = 250
    register_lge: bool = True
    dihedral_augmentation: float = Field(
        0.0, ge=0.0, le=1.0, description="Probability that a training sample is turned and/or mirrored "
        "(PSCGAN's train.dihedral_augmentation; 0: none).")
    ed_shift_augmentation: int = Field(
        0, ge=0, le=12, description="Largest cyclic shift of a training sample's cine frames either way "
        "(PSCGAN's train.ed_shift_augmentation; 0: none).")
    preprocessing: PreprocessingConfig = PreprocessingConfig()

    @field_validator("schema_version")
    @classmethod
    def _today(cls, v: int) -> int:
        if v != BASELINE_CONFIGURATION.current:
            raise ValueError(
                f"schema_version {v} is not supported (expected {BASELINE_CONFIGURATION.current})")
        return v

    def defined_parts(self) -> DefinedParts:
        """What this baseline's predictions define."""
        if self.kind is BaselineKind.SCAR_UNET3D:
            return DefinedParts(producer=self.kind.value, synthetic_lge=False,
                                segmentation_classes=(int(Tissue.SCAR),))
        if self.kind is BaselineKind.PIX2PIX:
            return DefinedParts(producer=self.kind.value, synthetic_lge=True, segmentation_classes=())
        return DefinedParts(producer=self.kind.value, synthetic_lge=False,
                            segmentation_classes=tuple(range(NUM_CLASSES)))


def baseline_plan(config: BaselineConfig) -> dict[str, Any]:
    """The :class:`~pscgan.preprocessing.pipeline.PreprocessOptions` fields the baseline's input is
    prepared with (its training, cache and prediction): frames, crop and its ``preprocessing``."""
    from pscgan.data.protocol import plan_options

    return plan_options(config.frames, config.image_size, config.preprocessing)


def _sizes(kind: BaselineKind, tiny: bool, image_size: int) -> dict[str, object]:
    if kind is BaselineKind.SCAR_UNET3D:
        channels = (4, 8, 16) if tiny else (8, 16, 32, 64)
        return {"channels": channels, "strides": ((1, 2, 2),) * (len(channels) - 1), "lr": 1e-3}
    if kind is BaselineKind.MONAI_UNET:
        channels = (8, 16, 32) if tiny else (16, 32, 64, 128)
        return {"channels": channels, "strides": ((2, 2),) * (len(channels) - 1),
                "residual_units": 1 if tiny else 2, "lr": 1e-3}
    # pix2pix: downsample by 2 down to 1x1, as Isola's U-Net does (8 levels for 256, 6 for 64).
    depth = max(image_size.bit_length() - 1, 2)
    base, cap = (4, 16) if tiny else (16, 128)
    channels = tuple(min(base * 2 ** i, cap) for i in range(depth))
    return {"channels": channels, "discriminator_channels": base, "discriminator_layers": 2 if tiny else 3,
            "dropout": 0.5, "l1_weight": 100.0, "lr": 2e-4, "betas": (0.5, 0.999)}


def baseline_config_from_dict(data: Any, *, source: str | Path | None = None) -> BaselineConfig:
    """Validate a stored baseline configuration, of today's version or an older one.

    Raises:
        pydantic.ValidationError: not a valid baseline configuration.
    """
    return BaselineConfig.model_validate(migrate(BASELINE_CONFIGURATION, data, source=source)[0])


def baseline_config(kind: str | BaselineKind, preset: str = "cpu", *, register_lge: bool | None = None,
                    preprocessing: PreprocessingConfig | None = None,
                    dihedral_augmentation: float = 0.0, ed_shift_augmentation: int = 0) -> BaselineConfig:
    """The baseline ``kind`` sized for ``preset`` (``tiny``: test sizes; otherwise the CPU sizes).

    Args:
        kind: which baseline.
        preset: PSCGAN preset whose input geometry and preprocessing it uses.
        register_lge: the data protocol, when it is not the preset's (an experiment run with
            ``--set train.register_lge=false`` trains its baselines on the same targets as PSCGAN).
        preprocessing: the input's plan, when it is not the preset's (an experiment run with
            ``--set preprocessing...`` prepares its baselines' input as PSCGAN's).
        dihedral_augmentation: probability of turning/mirroring a training sample (an experiment run
            with ``--set train.dihedral_augmentation=p`` augments its baselines as PSCGAN).
        ed_shift_augmentation: largest cyclic shift of a training sample's cine frames (likewise).

    Raises:
        ConfigError: unknown kind or preset.
    """
    from pscgan.config.presets import get_preset

    kind = BaselineKind.parse(kind)
    ref = get_preset(preset)
    tiny = preset == "tiny"
    intervals = ({"log_interval": 1, "validation_interval": 1, "checkpoint_interval": 1} if tiny else
                 {"log_interval": 25, "validation_interval": 250, "checkpoint_interval": 250})
    return BaselineConfig(
        kind=kind,
        preset=preset,
        frames=ref.model.frames,
        image_size=ref.model.image_size,
        batch_size=2 if tiny else 4,
        register_lge=ref.train.register_lge if register_lge is None else register_lge,
        dihedral_augmentation=dihedral_augmentation,
        ed_shift_augmentation=ed_shift_augmentation,
        preprocessing=ref.preprocessing if preprocessing is None else preprocessing,
        **intervals,
        **_sizes(kind, tiny, ref.model.image_size),
    )
