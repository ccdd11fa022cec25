"""Training runs: the run folder, exact resume after a stop, finished runs kept, other plans refused."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import load_file

from pscgan.baselines import BaselineKind, train_baseline
from pscgan.errors import ConfigError, InputError

KINDS = [k.value for k in BaselineKind]


@pytest.mark.parametrize("kind", KINDS)
def test_run_folder_holds_plan_split_environment_metrics_and_weights(kind, trained_baselines, baseline_split):
    weights = trained_baselines[kind]
    run = weights.parent
    plan = json.loads((run / "config.json").read_text())
    assert plan["kind"] == kind and plan["steps"] == 3 and plan["config"]["frames"] == 4
    assert plan["config"]["register_lge"] is True  # the preset's protocol, as PSCGAN's
    assert json.loads((run / "split.json").read_text())["validation"] == baseline_split["validation"]
    assert json.loads((run / "environment.json").read_text())["seed"] == 0
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]
    assert all("val_score" in r for r in records)
    assert (run / "checkpoints" / "best").is_dir() and weights.is_file()


def test_resume_after_a_stop_gives_the_weights_of_an_uninterrupted_run(
    tiny_ring_dataset, baseline_split, tmp_path
):
    """pix2pix: two networks, two optimisers, and dropout, so every RNG and state must come back."""
    args = {
        "steps": 4,
        "seed": 3,
        "device": "cpu",
        "split": baseline_split,
        "preset": "tiny",
        "deterministic": True,
    }
    straight = train_baseline("pix2pix", tiny_ring_dataset, tmp_path / "straight", **args)
    stopped = train_baseline("pix2pix", tiny_ring_dataset, tmp_path / "stopped", stop_after=2, **args)
    assert not stopped.exists()  # a stopped run has no final weights yet
    resumed = train_baseline("pix2pix", tiny_ring_dataset, tmp_path / "stopped", **args)
    assert resumed == stopped
    a, b = load_file(str(straight)), load_file(str(resumed))
    assert a.keys() == b.keys()
    for key in a:
        assert (a[key] == b[key]).all(), key
    log = [json.loads(line) for line in (tmp_path / "stopped" / "metrics.jsonl").read_text().splitlines()]
    ref = [json.loads(line) for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    assert [r["g_total"] for r in log] == [r["g_total"] for r in ref]


def test_finished_run_is_returned_without_training_again(
    trained_baselines, tiny_ring_dataset, baseline_split
):
    weights = trained_baselines["monai_unet"]
    before = weights.stat().st_mtime_ns
    again = train_baseline("monai_unet", tiny_ring_dataset, weights.parent, steps=3, seed=0, device="cpu",
                           split=baseline_split, preset="tiny")
    assert again == weights and weights.stat().st_mtime_ns == before


def test_a_run_folder_of_another_plan_is_refused(trained_baselines, tiny_ring_dataset, baseline_split):
    run = trained_baselines["monai_unet"].parent
    with pytest.raises(ConfigError, match="another baseline, budget, seed or split"):
        train_baseline(
            "monai_unet",
            tiny_ring_dataset,
            run,
            steps=3,
            seed=1,
            device="cpu",
            split=baseline_split,
            preset="tiny",
        )
    with pytest.raises(ConfigError, match="another baseline"):
        train_baseline("pix2pix", tiny_ring_dataset, run, steps=3, seed=0, device="cpu", split=baseline_split,
                       preset="tiny")


def test_bad_arguments_are_explained(tiny_ring_dataset, baseline_split, tmp_path):
    with pytest.raises(InputError, match="no training subjects"):
        train_baseline("monai_unet", tiny_ring_dataset, tmp_path / "a", steps=1, seed=0, device="cpu",
                       split={"train": [], "validation": []}, preset="tiny")
    with pytest.raises(ConfigError, match="steps must be"):
        train_baseline("monai_unet", tiny_ring_dataset, tmp_path / "b", steps=0, seed=0, device="cpu",
                       split=baseline_split, preset="tiny")
    with pytest.raises(InputError, match="the split names 1 subject.s. the dataset does not hold"):
        train_baseline("monai_unet", tiny_ring_dataset, tmp_path / "c", steps=1, seed=0, device="cpu",
                       split={"train": ["nobody"], "validation": []}, preset="tiny")


def test_protocol_and_threads_can_be_given(tiny_ring_dataset, baseline_split, tmp_path):
    """An experiment passes its own data protocol and thread count; the threads are put back after."""
    import torch

    before = torch.get_num_threads()
    weights = train_baseline("monai_unet", tiny_ring_dataset, tmp_path / "run", steps=1, seed=0, device="cpu",
                             split=baseline_split, preset="tiny", register_lge=False, num_threads=1)
    run = weights.parent
    assert json.loads((run / "config.json").read_text())["config"]["register_lge"] is False
    assert json.loads((run / "environment.json").read_text())["torch_threads"] == 1
    assert torch.get_num_threads() == before


def test_baselines_train_on_the_cache_of_pscgan_s_protocol(trained_baselines, tiny_ring_dataset):
    """Same options as PSCGAN training with the same preset: registered targets, one shared cache."""
    from pscgan.config.presets import get_preset
    from pscgan.data.cache import options_key
    from pscgan.data.protocol import preprocess_options

    cfg = get_preset("tiny")
    pre = preprocess_options(
        tiny_ring_dataset,
        register_lge=cfg.train.register_lge,
        n_phases=cfg.model.frames,
        crop_size=cfg.model.image_size,
    )
    assert pre.register_lge
    cache = tiny_ring_dataset / ".pscgan-cache" / f"{options_key(pre)}.safetensors"
    assert cache.is_file()  # built by the baselines' (or PSCGAN's) training with these very options
