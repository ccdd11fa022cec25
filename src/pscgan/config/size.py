"""How much memory a model configuration asks for, checked before any network is built.

A configuration comes from a user's hands (``--set``, a ``config.json``, a weights file with valid
checksums) and every size in it sets an allocation: the schema's upper bounds
(:mod:`pscgan.config.schema`) refuse absurd single values, and the products checked here refuse
combinations of plausible values that would still allocate tens of gigabytes:

* :func:`estimated_sizes` (no torch, used by the schema's validation): the generators' dense bottleneck
  layers, the largest encoder activation and the largest attention matrix of one sample;
* :func:`pscgan.models.factory.check_parameter_count`: the exact parameter count of the cascade, built on
PyTorch's ``meta``
  device (shapes only, nothing allocated), before the real networks are built.

Limits (the ``paper`` preset, the largest, in brackets): :data:`MAX_PARAMETERS` 2e9 parameters, 8 GB in
float32 (770 M); :data:`MAX_TENSOR_ELEMENTS` 2^31 values in one activation or attention matrix of one
sample (6.6e8, full attention over 25x32x32 tokens).

Example:
    >>> from pscgan.config.presets import get_preset
    >>> sizes = estimated_sizes(get_preset("paper").model)
    >>> sizes["attention_elements"], sizes["bottleneck_parameters"] < MAX_PARAMETERS
    (655360000, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pscgan.config.schema import ModelConfig

MAX_PARAMETERS = 2_000_000_000
MAX_TENSOR_ELEMENTS = 2**31


def estimated_sizes(model: ModelConfig) -> dict[str, int]:
    """Sizes a model configuration implies, from its fields alone (no network is built).

    Returns:
        ``bottleneck_parameters``: weights of the dense layers of all generators (most of the paper
        network); ``activation_elements``: the largest encoder activation of one sample (T x C x h x w);
        ``attention_elements``: the largest attention matrix of one sample.
    """
    from pscgan.config.schema import AttentionMode, BottleneckInput, EncoderKind

    b = model.bottleneck_size
    frames = model.encoded_frames
    time_factor = frames if model.bottleneck_input is BottleneckInput.FLATTEN else 1
    fc1 = (model.widths[-1] * b * b * time_factor + 1) * model.bottleneck_features
    condition = (model.image_size // model.condition_pool) ** 2 * model.classes
    fc2 = (model.bottleneck_features + condition + 1) * model.decoder_start_channels * b * b
    generators = 3 if model.progressive else 1
    activation = attention = 0
    for i, width in enumerate(model.widths):
        size = model.image_size // 2 ** (i + 1)
        pixels = size * size
        activation = max(activation, frames * pixels * max(width, model.decoder_widths[-1 - i]))
        if model.encoder is not EncoderKind.SCLN:
            continue
        positions = model.frames * pixels
        mode = AttentionMode.FULL if positions <= model.full_attention_max_positions else model.attention
        if mode is AttentionMode.FULL:
            attention = max(attention, positions * positions)
        elif mode is AttentionMode.FACTORISED:
            attention = max(attention, model.frames * pixels * pixels, pixels * model.frames ** 2)
    return {"bottleneck_parameters": generators * (fc1 + fc2), "activation_elements": activation,
            "attention_elements": attention}


def size_problems(model: ModelConfig) -> list[str]:
    """What in ``model`` exceeds the limits, one phrase each (empty when it fits)."""
    sizes = estimated_sizes(model)
    problems = []
    if sizes["bottleneck_parameters"] > MAX_PARAMETERS:
        problems.append(f"the dense bottleneck layers alone would hold {sizes['bottleneck_parameters']:.3g} "
                        f"parameters (at most {MAX_PARAMETERS:.3g}; lower bottleneck_features, image_size or "
                        "frames, or use bottleneck_input=time_weighted)")
    if sizes["activation_elements"] > MAX_TENSOR_ELEMENTS:
        problems.append(
            f"one encoder activation would hold {sizes['activation_elements']:.3g} values per sample "
            f"(at most {MAX_TENSOR_ELEMENTS:.3g}; lower widths, image_size or frames)"
        )
    if sizes["attention_elements"] > MAX_TENSOR_ELEMENTS:
        problems.append(
            f"one attention matrix would hold {sizes['attention_elements']:.3g} values per sample "
            f"(at most {MAX_TENSOR_ELEMENTS:.3g}; use attention=factorised or none, or lower "
            "full_attention_max_positions, image_size or frames)"
        )
    return problems
