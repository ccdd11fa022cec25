"""Sizes a configuration asks for are bounded before anything is allocated (issue: a weights file with valid
checksums, or ``--set``, asking for 10^13 bottleneck features or a 2^20 image ended in an allocator error)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pscgan.config.presets import PRESETS, get_preset
from pscgan.config.schema import apply_overrides, config_from_dict
from pscgan.config.size import MAX_PARAMETERS, estimated_sizes
from pscgan.errors import ConfigError, InputError
from pscgan.models.factory import check_parameter_count

FUZZ = settings.get_profile("fuzz")
#: Fields a user can set and hostile values for them: absurd, negative, non-finite, huge products.
HOSTILE = {
    "model.bottleneck_features": [10**13, 65537, 0, -1],
    "model.image_size": [2**20, 528, 0],
    "model.frames": [10**6, 257, 0],
    "model.widths": [[8, 16, 32, 10**9], [4097, 1, 1, 1], [1, 1, 1, 0]],
    "model.decoder_widths": [[10**9, 1, 1, 1]],
    "model.discriminator_widths": [[64, 128, 256, 512, 10**7]],
    "model.decoder_start_channels": [10**8],
    "model.dilations": [[1, 10**6], [1] * 100],
    "model.spatial_kernel": [10**5],
    "model.classes": [10**6],
    "model.condition_pool": [10**9],
    "train.batch_size": [10**9],
    "train.lr": ["NaN", "Infinity", -1],
    "train.betas": [[1.5, 0.999], ["NaN", 0.9]],
    "train.seed": [10**30, -1],
    "train.num_threads": [10**7],
}
CASES = [(k, v) for k, values in HOSTILE.items() for v in values]


def test_presets_fit_the_limits():
    for name in PRESETS:
        cfg = get_preset(name)
        assert check_parameter_count(cfg) <= MAX_PARAMETERS
        assert estimated_sizes(cfg.model)["bottleneck_parameters"] <= MAX_PARAMETERS


@pytest.mark.parametrize(("key", "value"), CASES, ids=[f"{k}={v}"[:40] for k, v in CASES])
def test_hostile_overrides_are_refused_by_validation(key, value, fuzz_cases):
    with fuzz_cases.watchdog(f"--set {key}"), pytest.raises(ConfigError, match="invalid config"):
        apply_overrides(
            get_preset("cpu"), [f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
        )


@pytest.mark.parametrize("overrides", [
    ["model.image_size=512", "model.bottleneck_features=65536"],          # dense layer of 8e12 weights
    ["model.image_size=256", "model.attention=full"],                      # attention matrix of 1e13 values
    ["model.frames=256", "model.image_size=512", "model.widths=[4096,4096,4096,4096]"],
])
def test_moderate_values_whose_product_would_allocate_tens_of_gb_are_refused(overrides):
    with pytest.raises(ConfigError, match="at most"):
        apply_overrides(get_preset("paper"), overrides)


def test_the_exact_parameter_count_is_checked_before_networks_are_built():
    cfg = apply_overrides(get_preset("tiny"), ["model.widths=[4096,4096,4096,4096]",
                                               "model.decoder_widths=[4096,4096,4096,4096]"])
    with pytest.raises(ConfigError, match="parameters"):
        check_parameter_count(cfg)


@settings(FUZZ, max_examples=60)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "frames",
                "image_size",
                "bottleneck_features",
                "decoder_start_channels",
                "full_attention_max_positions",
                "condition_pool",
            ]
        ),
        st.integers(min_value=-5, max_value=2**40),
        min_size=1,
    )
)
def test_generated_model_sizes_are_refused_or_fit(fuzz_cases, fields):
    data = get_preset("cpu").model_dump(mode="json")
    data["model"].update(fields)
    with fuzz_cases.watchdog("a generated configuration"):
        try:
            cfg = config_from_dict(data)
        except ConfigError:
            return
        assert estimated_sizes(cfg.model)["bottleneck_parameters"] <= MAX_PARAMETERS


def test_weights_whose_configuration_asks_for_too_much_are_refused_before_building(tiny_weights, tmp_path):
    """A weights file with valid checksums over a configuration edited to ask for 10^13 features, or for
    networks above the parameter limit, ends in one InputError naming the file."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    from pscgan.models.weights import load_weights, metadata_digest

    with safe_open(str(tiny_weights), framework="pt") as fh:
        meta = dict(fh.metadata())
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open has no iteration
    for edit, match in (({"bottleneck_features": 10**13}, "invalid configuration"),
                        ({"widths": [4096] * 4, "decoder_widths": [4096] * 4}, "parameters")):
        cfg = json.loads(meta["config"])
        cfg["model"].update(edit)
        forged = {**meta, "config": json.dumps(cfg)}
        forged["metadata_sha256"] = metadata_digest(forged)
        path = tmp_path / "forged.safetensors"
        save_file(tensors, str(path), metadata=forged)
        with pytest.raises(InputError, match=match) as err:
            load_weights(path)
        assert err.value.path == path
