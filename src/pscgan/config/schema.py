"""Typed, validated configuration of a PSCGAN run: sections ``model``, ``loss``, ``train`` and
``preprocessing``.

A :class:`PscganConfig` is what a preset (:mod:`pscgan.config.presets`) produces and what every run
saves as ``config.json`` beside its outputs and in its weights, so that a result can always be traced to
the exact network, loss and preprocessing that made it (the ``preprocessing`` section is the model's
plan, as nnU-Net ships its plans with every model). Unknown keys are refused (a typo must not silently
fall back to a default), and options are string enums. Defaults are the recommended values; a
configuration stored by an older version is brought up to date by :mod:`pscgan.migrations`, which
says what it filled in.

Every size is bounded, generously above the ``paper`` preset (in brackets), so that a configuration
from a user's hands (``--set``, ``config.json``, a weights file) is refused before anything is
allocated: ``frames`` <= 256 (25), ``image_size`` <= 512 (64), every width and channel count <= 4096
(512), ``bottleneck_features`` <= 65536 (4096), dilations <= 64 (8) and at most 16 of them, kernels
<= 15 (3), ``classes`` <= 16 (4), ``batch_size`` <= 1024 (1). Their products are checked too
(:mod:`pscgan.config.size`): dense layers, the largest activation and the largest attention matrix.
Non-finite numbers are refused everywhere.

Example:
    >>> cfg = PscganConfig()
    >>> cfg.model.encoder.value, cfg.model.attention.value, cfg.loss.adversarial.value
    ('scln', 'full', 'hinge')
    >>> cfg2 = apply_overrides(cfg, ["model.attention=factorised", "train.lr=0.0005"])
    >>> cfg2.model.attention.value, cfg2.train.lr
    ('factorised', 0.0005)
"""

from __future__ import annotations

import json
import math
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pscgan.errors import ConfigError
from pscgan.migrations import CONFIGURATION, migrate

#: Version 2 added the ``preprocessing`` section and made the presets' protocol the defaults
#: (``train.register_lge``, ``loss.mask_to_discriminator``); see :mod:`pscgan.migrations`.
SCHEMA_VERSION = CONFIGURATION.current


class EncoderKind(str, Enum):
    """Cine encoder of every generator: the SCLN or one of the baselines of tables 3-4."""

    SCLN = "scln"
    CONV3D = "conv3d"
    CONVLSTM = "convlstm"
    CONV3D_LSTM = "conv3d_lstm"
    CONV2D_CONV1D = "conv2d_conv1d"
    LSTM_CONV2D = "lstm_conv2d"
    GRU_CONV2D = "gru_conv2d"
    RNN_CONV2D = "rnn_conv2d"
    # not in the paper: the frames stacked as channels of a 2D encoder, as the U-Net baseline reads them
    FRAME_STACK = "frame_stack"


class Pathways(str, Enum):
    """Which SCLN perceptual pathways are built (table 4 ablations)."""

    BOTH = "both"
    SPATIAL = "spatial"
    TEMPORAL = "temporal"


class AttentionMode(str, Enum):
    """Self-attention of the multi-attention weighing unit.

    ``full`` attends over all T*H*W positions (the paper); ``factorised`` attends within each frame,
    then along time at each pixel (the efficient option); ``none`` removes the unit (pathway outputs
    are added, table 4's "multi-attention weighing removed").
    """

    FULL = "full"
    FACTORISED = "factorised"
    NONE = "none"


class BottleneckInput(str, Enum):
    """How the last SCLN output (C x T x h x w) reaches the fully connected bottleneck.

    ``flatten`` is the paper (one dense layer from all T*h*w*C values); ``time_weighted`` first
    collapses time with a learned weighting (the same "dot layer" the skips use), which divides the
    first dense layer by T.
    """

    FLATTEN = "flatten"
    TIME_WEIGHTED = "time_weighted"


class SkipCollapse(str, Enum):
    """How a skip's time axis (C x T x h x w) is collapsed before the decoder reads it.

    ``dot`` is the paper's "dot layer": one learned weight per frame, shared by every channel, so the
    decoder sees a weighted average of the frames. ``temporal_projection`` learns, per output channel,
    a weighting of every input channel at every frame (a convolution over the whole time axis,
    initialised to the temporal mean), so how a pixel moves over the cycle, which is what marks scar,
    reaches the decoder at full resolution as a U-Net on stacked frames sees it. Not in the paper.
    """

    DOT = "dot"
    TEMPORAL_PROJECTION = "temporal_projection"


class ConditionInjection(str, Enum):
    """Where phases II and III read their condition image (the previous phase's mask or LGE).

    ``bottleneck`` is the paper: the flattened condition joins the bottleneck vector before the second
    dense layer, so it reaches the decoder only through a 4x4 grid. ``decoder`` also concatenates the
    condition, average-pooled to each upsampling block's resolution, to that block's input (as the
    skips are), so a thin structure in the condition (a subendocardial scar in the synthetic LGE) can
    reach the output at full resolution. ``encoder`` does what ``decoder`` does and also stacks the
    condition with the frames as input channels of the frame-stack encoder and of the frame-stack skip,
    so every stage reads the condition beside the cine, as a U-Net given both as channels would (needs
    ``encoder=frame_stack``). Neither is in the paper.
    """

    BOTTLENECK = "bottleneck"
    DECODER = "decoder"
    ENCODER = "encoder"


class MaskEncoding(str, Enum):
    """How a generator's mask reaches its discriminator (the ground truth is always one-hot)."""

    SOFTMAX = "softmax"  # class probabilities: soft where the ground truth is not, a cue D can use alone
    ONE_HOT = "one_hot"  # one-hot of the most probable class, with the softmax's gradient (straight through)


class DiceReduction(str, Enum):
    """Where the soft Dice term pools its intersections and sums (``loss.segmentation_dice_reduction``)."""

    BATCH = "batch"  # over the whole batch: a slice without scar adds no degenerate 0/0 term
    SAMPLE = "sample"  # per slice, then averaged: each slice counts alike, as the U-Net baseline trains


class ImageNorm(str, Enum):
    """Normalisation of the generator's 2D convolutions (frame-stack encoder and skip, decoder)."""

    LAYER = "layer"  # over (C, H, W) of each image, per-channel affine: section 6.3's layer norm
    INSTANCE = "instance"  # over (H, W) of each channel, as MONAI's U-Net (the baseline) normalises


class AdversarialLoss(str, Enum):
    """Adversarial loss (section 7.5); ``none`` switches adversarial learning off (table 3)."""

    HINGE = "hinge"
    WGAN_GP = "wgan_gp"
    LSGAN = "lsgan"
    NONE = "none"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, allow_inf_nan=False)


MAX_WIDTH = 4096  # channels of any layer (paper: 512)
MAX_DILATION = 64
MAX_LAYERS = 16


class ModelConfig(_Section):
    """Networks: input geometry, encoder, generator and discriminator widths."""

    frames: int = Field(25, ge=1, le=256, description="Cine frames T fed to the network.")
    image_size: int = Field(
        64, ge=16, le=512, description="Square in-plane size; divisible by 16 (4 halvings)."
    )
    classes: int = Field(4, ge=2, le=16, description="Classes (0 other, 1 blood pool, 2 myocardium, 3 scar).")
    progressive: bool = Field(True, description="Three cascaded GANs; false: one generator, parallel heads.")
    encoder: EncoderKind = EncoderKind.SCLN
    widths: tuple[int, int, int, int] = Field((16, 32, 64, 128), description="Encoder block channels.")
    dilations: tuple[int, ...] = Field((1, 1, 2, 4, 6, 8), description="Dilations of each pathway's stack.")
    residual_dilations: tuple[int, ...] = Field((1, 2, 4), description="Dilations of the residual block.")
    spatial_kernel: int = Field(3, ge=1, le=15, description="In-plane kernel of the spatial pathway.")
    temporal_kernel: int = Field(
        3, ge=2, le=15, description="Causal kernel (frames) of the temporal pathway."
    )
    pathways: Pathways = Pathways.BOTH
    attention: AttentionMode = AttentionMode.FULL
    full_attention_max_positions: int = Field(
        0,
        ge=0,
        le=2**31,
        description="Blocks with at most this many T*h*w tokens use full attention whatever "
        "`attention` says.",
    )
    attention_qk_reduction: int = Field(
        8, ge=1, le=MAX_WIDTH, description="Query/key channels are C / this (paper: 8)."
    )
    attention_value_reduction: int = Field(1, ge=1, le=MAX_WIDTH, description="Value channels are C / this.")
    leaky_slope: float = Field(0.2, ge=0.0, lt=1.0)
    bottleneck_input: BottleneckInput = BottleneckInput.FLATTEN
    bottleneck_features: int = Field(
        4096, ge=1, le=65536, description="Width of the first fully connected layer."
    )
    decoder_start_channels: int = Field(
        256, ge=1, le=MAX_WIDTH, description="Channels of the reshaped decoder input."
    )
    decoder_widths: tuple[int, int, int, int] = Field((128, 64, 32, 16), description="Upsampling blocks.")
    skip_collapse: SkipCollapse = SkipCollapse.DOT
    frame_stack_skip: bool = Field(
        False,
        description="Also give the last upsampling block (full resolution, which the paper's decoder feeds "
        "no skip) a 3x3 convolution of the cine's frames stacked as channels, as a U-Net on stacked frames "
        "sees them: thin scar is a few pixels wide and the encoder's first block already halves the "
        "resolution. Not in the paper.",
    )
    bottleneck_skip: bool = Field(
        False,
        description="Also give the first upsampling block the encoder's last stage (time collapsed by a "
        "learned weighting) as a skip, so the decoder starts from features that keep their layout, as a "
        "U-Net's deepest level does, beside the dense bottleneck's. Not in the paper.",
    )
    decoder_residual: bool = Field(
        False,
        description="Give each upsampling block a second 3x3 convolution, added back as a residual (as the "
        "encoder's stages and MONAI's residual units have): the paper's decoder has one convolution per "
        "resolution. Not in the paper.",
    )
    generator_norm: ImageNorm = Field(
        ImageNorm.LAYER, description="Normalisation after the generator's 2D convolutions (frame-stack "
        "encoder and skip, decoder); the SCLN keeps its per-frame layer norm. instance: not in the paper.")
    condition_pool: int = Field(1, ge=1, le=512, description="Average-pool factor of the condition image.")
    condition_injection: ConditionInjection = ConditionInjection.BOTTLENECK
    discriminator_widths: tuple[int, int, int, int, int] = (64, 128, 256, 512, 512)
    discriminator_attention: bool = Field(True, description="Self-attention between conv 2 and conv 3.")

    @model_validator(mode="after")
    def _check(self) -> ModelConfig:
        stacked = self.encoder is EncoderKind.FRAME_STACK
        if self.condition_injection is ConditionInjection.ENCODER and not stacked:
            raise ValueError("condition_injection=encoder stacks the condition with the frames and needs "
                             f"encoder=frame_stack, got encoder={self.encoder.value}")
        if self.image_size % 16:
            raise ValueError(f"image_size must be divisible by 16 (four stride-2 blocks), "
                             f"got {self.image_size}")
        if any(d < 1 for d in (*self.dilations, *self.residual_dilations)):
            raise ValueError("dilations must be positive")
        if not self.dilations or self.dilations[0] != 1:
            raise ValueError("the first dilation carries the stride and must be 1")
        if not self.residual_dilations:
            raise ValueError("residual_dilations must not be empty")
        if min(*self.widths, *self.decoder_widths, *self.discriminator_widths) < 1:
            raise ValueError("widths must be positive")
        if max(*self.widths, *self.decoder_widths, *self.discriminator_widths) > MAX_WIDTH:
            raise ValueError(f"widths must be at most {MAX_WIDTH}")
        if max(*self.dilations, *self.residual_dilations) > MAX_DILATION:
            raise ValueError(f"dilations must be at most {MAX_DILATION}")
        if max(len(self.dilations), len(self.residual_dilations)) > MAX_LAYERS:
            raise ValueError(f"at most {MAX_LAYERS} dilations per stack")
        from pscgan.config.size import size_problems

        problems = size_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        if self.encoder is not EncoderKind.SCLN and (
                self.pathways is not Pathways.BOTH or self.attention is not AttentionMode.FULL):
            raise ValueError("pathways and attention switches apply to the scln encoder only")
        return self

    @property
    def encoded_frames(self) -> int:
        """Frames the encoder's features keep: T, or 1 where the frames enter as channels (frame_stack)."""
        return 1 if self.encoder is EncoderKind.FRAME_STACK else self.frames

    @property
    def bottleneck_size(self) -> int:
        """In-plane size after the 4 encoder blocks (4 for 64x64 input)."""
        return self.image_size // 16


class LossConfig(_Section):
    """Loss terms and weights. The paper gives no weights; defaults are ours and named as such."""

    adversarial: AdversarialLoss = AdversarialLoss.HINGE
    adversarial_weight: float = Field(1.0, ge=0.0)
    mask_to_discriminator: MaskEncoding = Field(
        MaskEncoding.ONE_HOT, description="The generator's mask as the discriminator sees it: one-hot like "
        "the ground truth with the softmax's gradient (straight-through estimator; section 5.1 encodes "
        "'both the generator output and ground truth to one-hot vector classes'), or softmax probabilities.")
    gradient_penalty_weight: float = Field(10.0, ge=0.0, description="WGAN-GP lambda (Gulrajani et al.).")
    segmentation_weight: float = Field(1.0, ge=0.0, description="Multi-class cross-entropy, eq. (8)-(9).")
    segmentation_dice_weight: float = Field(
        0.0,
        ge=0.0,
        description="Soft Dice loss on the foreground classes added to eq. (9) (MONAI DiceLoss); "
        "counters the scar's small pixel share. Not in the paper (0 = off).",
    )
    segmentation_dice_reduction: DiceReduction = Field(
        DiceReduction.BATCH, description="Soft Dice pooled over the batch, or per slice and then averaged "
        "(the MONAI U-Net baseline's DiceCE); only with segmentation_dice_weight > 0.")
    segmentation_count_weight: float = Field(
        0.0, ge=0.0, description="Per-slice error of the soft pixel count of each heart class, as a share "
        "of the heart (eq. 17's pixel counts read on the generator's softmax, without a discriminator; "
        "pscgan.losses.segmentation.heart_share_loss). Not in the paper (0 = off).")
    regularisation: bool = Field(True, description="Synthetic regularisation of eq. (11)-(13), phase II.")
    regularisation_weight: float = Field(0.01, ge=0.0)
    ogs_nu: float = Field(1.0, gt=0.0, description="nu of eq. (11).")
    ogs_group_size: int = Field(3, ge=1, le=64, description="K of eq. (12)-(13).")
    content: bool = Field(True, description="Discriminator feature content loss, eq. (15), phase II.")
    content_weight: float = Field(1.0, ge=0.0)
    pixel_l1_weight: float = Field(0.0, ge=0.0, description="Optional pixel L1 on the LGE (not in paper).")
    synthesis_ssim_weight: float = Field(
        0.0, ge=0.0, description="Optional 1 - SSIM of the synthetic LGE against its target, SSIM as pscgan "
        "evaluate scores it (7x7 uniform window on [0, 1]). Not in the paper (0 = off).")
    auxiliary: bool = Field(True, description="Pixel-count auxiliary loss of eq. (17), phase III.")
    auxiliary_weight: float = Field(1.0, ge=0.0)


class LearningRateSchedule(str, Enum):
    """How the learning rate moves over a phase (:func:`pscgan.training.loop.lr_factor`)."""

    CONSTANT = "constant"  # the paper's (section 6.3 names one rate)
    POLY = "poly"  # (1 - step / steps) ** 0.9, zero at the phase's end, as nnU-Net trains (not in the paper)


class TrainConfig(_Section):
    """Optimisation schedule (section 6.3) and training data protocol; consumed by the trainer.

    ``register_lge`` is the paper's protocol (section 6.1: cine and LGE "registered at the end-diastole
    phase"): the LGE targets, and labels drawn on the LGE, are rigidly registered to the cine
    end-diastolic frame before training, and evaluation registers its reference the same way.
    """

    lr: float = Field(1e-3, gt=0.0, description="Adam learning rate of both networks (paper: 0.001).")
    lr_schedule: LearningRateSchedule = Field(
        LearningRateSchedule.CONSTANT, description="constant (paper) or poly: decays to 0 over each phase.")
    betas: tuple[float, float] = Field((0.9, 0.999), description="Adam betas (not in the paper: defaults).")
    batch_size: int = Field(1, ge=1, le=1024, description="Paper: 1.")
    d_steps_per_g_step: int = Field(
        2, ge=1, le=100, description="Discriminator steps per generator step (paper: 2)."
    )
    steps_per_phase: int = Field(
        20000, ge=1, le=10**9, description="Generator steps per phase (not in the paper); with "
        "phase_step_shares, the mean over the cascade's phases."
    )
    phase_step_shares: tuple[float, float, float] | None = Field(
        None, description="Relative shares of phases I, II and III in the cascade's 3 x steps_per_phase "
        "generator steps (None: equal). The total, and so an experiment's equal budget, does not change. "
        "The joint (single-phase) model ignores it. Not in the paper.")
    phase_lr_factors: tuple[float, float, float] | None = Field(
        None, description="Learning rate of phases I, II and III (generator and discriminator) as multiples "
        "of lr (None: lr for all, the paper). A phase that starts from trained weights "
        "(warm_start_segmentation) can fine-tune at a lower rate. The joint model ignores it.")
    validation_interval: int = Field(1000, ge=1, description="Generator steps between validations.")
    checkpoint_interval: int = Field(1000, ge=1, description="Generator steps between checkpoints.")
    log_interval: int = Field(50, ge=1)
    seed: int = Field(0, ge=0, lt=2**32, description="Seed of every random generator of the run.")
    num_threads: int = Field(0, ge=0, le=1024, description="torch threads (0: torch's default).")
    divergence_retries: int = Field(
        3,
        ge=0,
        le=100,
        description="Non-finite (NaN/inf) steps recovered from in a row, "
        "each by restoring the last checkpoint, before stopping.",
    )
    divergence_lr_factor: float = Field(
        0.5,
        gt=0.0,
        lt=1.0,
        description="Learning-rate multiplier applied at each recovery from a non-finite step.",
    )
    register_lge: bool = Field(
        True,
        description="Register the LGE (and labels drawn on it) to the cine "
        "end-diastolic frame for training and evaluation (the paper, "
        "section 6.1).",
    )
    adversarial_warmup_steps: int = Field(
        0, ge=0, description="Generator steps at the start of each phase trained on the supervised "
        "terms only (cross-entropy and Dice for the masks; pixel L1 and regularisation for the LGE "
        "when pixel_l1_weight > 0), without the discriminator, which starts training after them. "
        "Not in the paper (0).")
    dihedral_augmentation: float = Field(
        0.0, ge=0.0, le=1.0, description="Probability that a training sample of the cascade is turned by a "
        "multiple of 90 degrees and/or mirrored (one of the 7 other symmetries of the square, equally "
        "likely), with its LGE, labels and condition. Exact: no interpolation. Not in the paper (0).")
    ed_shift_augmentation: int = Field(
        0, ge=0, le=12, description="Largest cyclic shift, in network frames either way, of a training "
        "sample's cine (each shift from -n to n equally likely, none among them), as if its end-diastolic "
        "phase had been read that many frames off; the labels stay at ED. Makes the networks find ED from "
        "the motion instead of assuming frame 0. Not in the paper (0).")
    generator_ema_decay: float | None = Field(
        None, gt=0.0, lt=1.0, description="Keep an exponential moving average of each phase's generator "
        "weights with this decay per generator step (ramped up as min(decay, (1 + t) / (10 + t)) over the "
        "phase's first steps) and validate, select, freeze and ship the average instead of the raw "
        "weights. None: no average (the paper, which is silent on it).")
    warm_start_segmentation: bool = Field(
        False, description="Start phase III's generator from phase I's trained one instead of a random "
                           "initialisation (not in the paper, which is silent on it): the two share the "
                           "architecture, and the weights that read phase III's extra condition (the LGE) "
                           "start at zero, so phase III begins with phase I's masks and learns from there "
                           "how to use the LGE.")


    @field_validator("betas")
    @classmethod
    def _adam_betas(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not all(0.0 <= b < 1.0 for b in v):
            raise ValueError(f"Adam betas must lie in [0, 1), got {v}")
        return v

    @field_validator("phase_step_shares", "phase_lr_factors")
    @classmethod
    def _positive_shares(cls, v: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
        if v is not None and not all(math.isfinite(x) and x > 0.0 for x in v):
            raise ValueError(f"must be three positive numbers, got {v}")
        return v

    def phase_steps(self, phases: int) -> tuple[int, ...]:
        """Generator steps of each of ``phases`` phases: ``steps_per_phase`` each, or the cascade's
        ``phases * steps_per_phase`` split by ``phase_step_shares`` (largest remainders; every phase at
        least one step).

        Example:
            >>> TrainConfig(steps_per_phase=1500, phase_step_shares=(2, 1, 2)).phase_steps(3)
            (1800, 900, 1800)
            >>> TrainConfig(steps_per_phase=1500, phase_step_shares=(2, 1, 2)).phase_steps(1)
            (1500,)
        """
        if self.phase_step_shares is None or phases != len(self.phase_step_shares):
            return (self.steps_per_phase,) * phases
        total, weights = self.steps_per_phase * phases, self.phase_step_shares
        exact = [total * w / sum(weights) for w in weights]
        steps = [math.floor(x) for x in exact]
        by_remainder = sorted(range(phases), key=lambda i: exact[i] - steps[i], reverse=True)
        for i in by_remainder[: total - sum(steps)]:
            steps[i] += 1
        for i in range(phases):  # a tiny budget: no phase is left without a step
            if steps[i] == 0:
                steps[i] = 1
                steps[steps.index(max(steps))] -= 1
        return tuple(steps)

    def phase_lr(self, phase_index: int) -> float:
        """The learning rate of the cascade's phase ``phase_index`` (0, 1, 2; the joint model: 0).

        Example:
            >>> TrainConfig(lr=1e-3, phase_lr_factors=(1, 1, 0.5)).phase_lr(2)
            0.0005
        """
        if self.phase_lr_factors is None:
            return self.lr
        return self.lr * self.phase_lr_factors[phase_index]


class TemporalResampling(str, Enum):
    """How the cine's phases are resampled to ``model.frames`` (:mod:`pscgan.preprocessing.temporal`)."""

    LINEAR = "linear"    # periodic linear interpolation
    FOURIER = "fourier"  # band-limited (periodic) interpolation


class PreprocessingConfig(_Section):
    """How an image becomes the network's input: the model's plan, saved with its weights and used by
    training, its cache and prediction alike (:func:`pscgan.data.protocol.planned_options`).

    The number of phases is ``model.frames`` and the crop side ``model.image_size``. Where the LV is found
    (``localisation``) is decided by each use (labels for training, the cine or the anatomy network at
    prediction, which records its decision in the prediction folder), and whether the LGE is registered
    is ``train.register_lge``.
    """

    intensity_percentiles: tuple[float, float] = Field(
        (0.5, 99.5), description="Percentiles of each slice's cine mapped to -1 and +1.")
    temporal_method: TemporalResampling = TemporalResampling.LINEAR
    target_spacing_mm: float | None = Field(
        None,
        gt=0.0,
        le=10.0,
        description="In-plane spacing to resample to (None: the native spacing, the paper).",
    )
    fov_heart_ratio: float | None = Field(
        None,
        ge=1.0,
        le=10.0,
        description="Crop field of view / the subject's largest end-diastolic LV diameter "
        "(one spacing per subject, replacing target_spacing_mm; None: off). A predictor with an anatomy "
        "network sets its own.",
    )
    max_registration_shift_mm: float = Field(
        10.0, ge=0.0, le=100.0, description="Bound on the LGE registration's translation."
    )
    max_registration_angle_deg: float = Field(10.0, ge=0.0, le=180.0, description="Bound on the LGE "
                                                                                  "registration's rotation.")

    @field_validator("intensity_percentiles")
    @classmethod
    def _ordered_percentiles(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not 0.0 <= v[0] < v[1] <= 100.0:
            raise ValueError(f"intensity_percentiles must satisfy 0 <= low < high <= 100, got {v}")
        return v


class PscganConfig(_Section):
    """A complete run configuration, saved as JSON beside every run and in its weights."""

    schema_version: int = SCHEMA_VERSION
    preset: str = Field("custom", description="Name of the preset this config started from.")
    model: ModelConfig = ModelConfig()
    loss: LossConfig = LossConfig()
    train: TrainConfig = TrainConfig()
    preprocessing: PreprocessingConfig = PreprocessingConfig()

    @model_validator(mode="after")
    def _check(self) -> PscganConfig:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version} is not supported "
                             f"(expected {SCHEMA_VERSION})")
        if self.loss.adversarial is AdversarialLoss.NONE and (self.loss.content or self.loss.auxiliary):
            raise ValueError("the content (eq. 15) and auxiliary (eq. 17) losses read the discriminator: "
                             "switch them off when adversarial=none (pixel_l1_weight can replace content)")
        return self

    def to_json(self) -> str:
        """The config as indented JSON text."""
        return self.model_dump_json(indent=2) + "\n"

    def save(self, path: str | Path) -> None:
        """Write the config atomically as JSON."""
        from pscgan.io.atomic import write_text_atomic

        write_text_atomic(path, self.to_json())


def load_config(path: str | Path) -> PscganConfig:
    """Read and validate a saved config.

    Raises:
        ConfigError: naming the file and the problem when the file is missing, not JSON, or invalid.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "config file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(path, f"not a readable JSON config: {exc}") from None
    return config_from_dict(data, source=path)


def config_from_dict(data: Any, *, source: str | Path | None = None) -> PscganConfig:
    """Validate a plain dict as a :class:`PscganConfig`, turning validation errors into ConfigError.

    A configuration of an older schema version is first brought up to date by
    :data:`pscgan.migrations.CONFIGURATION`, which logs what it filled in.
    """
    data, _ = migrate(CONFIGURATION, data, source=source)
    try:
        return PscganConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, _describe(exc)) from None


def config_from_record(data: Any, *, source: str | Path | None = None, where: str = "") -> PscganConfig:
    """A configuration pscgan wrote itself (an experiment plan's ``base_config``), read as the hostile
    input it may be: every field of today's version present (a missing one would silently become today's
    default), each of its type without coercion (``"2"`` and ``2.0`` are not an integer, ``1`` is not
    true) and within the schema's bounds. An older version is brought up to date first.

    Args:
        where: the record's field in ``source`` (``base_config``), prefixed to the field an error names.

    Raises:
        InputError: naming ``source`` and the field.
    """
    from pscgan.errors import InputError

    prefix = f"{where}." if where else ""
    if not isinstance(data, dict):
        raise InputError(source, f"field {where or '(top level)'}: not a configuration (an object)")
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
        raise InputError(source, f"field {prefix}schema_version: {version!r} is not a configuration version "
                                 f"(1 to {SCHEMA_VERSION})")
    data = migrate(CONFIGURATION, data, source=source)[0]
    # a record of today's version has every field; an older one may lack fields its version had no step
    # for, which meant their defaults (pscgan.migrations)
    for name, info in (PscganConfig.model_fields.items() if version == SCHEMA_VERSION else ()):
        if name not in data:
            raise InputError(source, f"field {prefix}{name}: missing")
        section = info.annotation
        if isinstance(section, type) and issubclass(section, BaseModel) and isinstance(data[name], dict):
            missing = [k for k in section.model_fields if k not in data[name]]
            if missing:
                raise InputError(source, f"field {prefix}{name}.{missing[0]}: missing")
    try:
        # JSON mode: strict, yet arrays are tuples and text is an enum's value, as pscgan writes them
        return PscganConfig.model_validate_json(json.dumps(data), strict=True)
    except (ValueError, RecursionError) as exc:
        if not isinstance(exc, ValidationError):  # NaN or nesting json.dumps cannot write
            raise InputError(source, f"field {where or '(top level)'}: not a configuration ({exc})") from None
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InputError(source, f"field {prefix}{loc or '(top level)'}: {first['msg']}{more}") from None


#: The sections of a configuration, as ``--set section.field=value`` names them.
SECTIONS = ("model", "loss", "train", "preprocessing")


def apply_overrides(config: PscganConfig, overrides: list[str] | tuple[str, ...]) -> PscganConfig:
    """Return a validated copy of ``config`` with ``section.field=value`` overrides applied.

    Values are parsed as JSON when possible (numbers, booleans, lists), otherwise taken as strings,
    so ``model.widths=[8,16,32,64]`` and ``model.attention=factorised`` both work.

    Raises:
        ConfigError: on a malformed override, an unknown field or an invalid value.
    """
    data = config.model_dump(mode="json")
    for item in overrides:
        key, sep, raw = item.partition("=")
        parts = key.strip().split(".")
        if not sep or len(parts) != 2 or parts[0] not in SECTIONS:
            raise ConfigError(None, f"override {item!r} must look like section.field=value "
                                    f"with section one of {', '.join(SECTIONS)}")
        section, field = parts
        if field not in data[section]:
            raise ConfigError(None, f"override {item!r}: {section} has no field {field!r}")
        try:
            value = json.loads(raw)
        except (json.JSONDecodeError, RecursionError):  # not JSON (or nested too deep): the text
            value = raw
        data[section][field] = value
    data["preset"] = config.preset if not overrides else f"{config.preset}+overrides"
    return config_from_dict(data)


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "config"
        problems.append(f"{where}: {err['msg']}")
    return "invalid config: " + "; ".join(problems)
