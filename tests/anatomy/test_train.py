"""Training the anatomy network: it learns a toy task, and an interrupted run resumes exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pscgan.anatomy.frames import TrainingFrame
from pscgan.anatomy.network import AnatomyConfig
from pscgan.anatomy.train import train_anatomy
from pscgan.training.checkpoint import load_checkpoint


def _frames(n: int = 4) -> list[TrainingFrame]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        rr, cc = np.mgrid[:48, :48]
        d = np.hypot(rr - rng.uniform(16, 32), cc - rng.uniform(16, 32))
        lab = ((d < 6) * 1 + ((d >= 6) & (d < 9)) * 2).astype(np.uint8)
        img = np.where(d < 6, 0.9, np.where(d < 9, -0.3, 0.2)).astype(np.float32)
        out.append(TrainingFrame("s", f"s[{i}]", np.stack([img, np.full_like(img, -1.0)]), lab))
    return out


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path: Path) -> None:
    cfg = AnatomyConfig.tiny().model_copy(update={"steps": 4, "validation_interval": 4})
    frames = _frames()
    train_anatomy(tmp_path / "whole", cfg, {"toy": frames}, frames, log=lambda _: None)
    first = train_anatomy(
        tmp_path / "split", cfg, {"toy": frames}, frames, log=lambda _: None, max_seconds=0.0
    )
    assert first["steps"] == 1 and not (tmp_path / "split" / "model.safetensors").exists()
    train_anatomy(tmp_path / "split", cfg, {"toy": frames}, frames, log=lambda _: None)
    a = load_checkpoint(tmp_path / "whole").module_state("net")
    b = load_checkpoint(tmp_path / "split").module_state("net")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "split" / "model.safetensors").is_file()


def test_it_learns_a_toy_ring() -> None:
    cfg = AnatomyConfig(channels=(8, 16, 32), num_res_units=0, window=64, batch_size=8, steps=120,
                        validation_interval=120, lr=3e-3)
    frames = _frames(6)
    import tempfile

    summary = train_anatomy(tempfile.mkdtemp(), cfg, {"toy": frames}, frames, log=lambda _: None)
    assert summary["best"]["dice_blood_pool"] > 0.6


def test_init_starts_from_the_given_weights(tmp_path: Path) -> None:
    from pscgan.anatomy.model import AnatomyModel, save_anatomy_weights
    from pscgan.anatomy.network import build_network

    cfg = AnatomyConfig.tiny().model_copy(update={"lr": 1e-12, "steps": 2, "validation_interval": 1})
    torch.manual_seed(123)
    start = build_network(cfg)
    save_anatomy_weights(tmp_path / "start.safetensors", start, cfg, training={}, licence="test")
    frames = _frames(2)
    train_anatomy(tmp_path / "run", cfg, {"toy": frames}, frames, log=lambda _: None,
                  init=tmp_path / "start.safetensors")
    after = AnatomyModel.from_weights(tmp_path / "run" / "model.safetensors").network.state_dict()
    assert all(torch.allclose(after[k].float(), v.float(), atol=1e-6) for k, v in start.state_dict().items())
    other = AnatomyConfig.tiny().model_copy(update={"channels": (4, 8, 8)})
    import pytest

    from pscgan.errors import ConfigError

    with pytest.raises(ConfigError, match="another network"):
        train_anatomy(tmp_path / "run2", other, {"toy": frames}, frames, log=lambda _: None,
                      init=tmp_path / "start.safetensors")


def test_frames_of_different_sizes_share_a_batch_and_a_budget_gives_steps() -> None:
    from pscgan.anatomy.train import FrameBank, _batch, calibrate_steps

    small, large = _frames(2)
    large = TrainingFrame("l", "l[0]", np.pad(large.inputs, ((0, 0), (10, 20), (5, 0)), constant_values=-1.0),
                          np.pad(large.labels, ((10, 20), (5, 0))))
    cfg = AnatomyConfig.tiny()
    banks = {"a": FrameBank([small], torch.device("cpu")), "b": FrameBank([large], torch.device("cpu"))}
    x, y = _batch(banks, ["a", "b"], np.array([0.5, 0.5]), cfg, torch.Generator().manual_seed(0),
                  torch.device("cpu"))
    assert x.shape == (cfg.batch_size, 2, cfg.window, cfg.window) and y.shape == (cfg.batch_size, cfg.window,
                                                                                     cfg.window)
    steps, per_step = calibrate_steps(cfg, {"toy": [small, large]}, 0.05, probe_steps=3)
    assert per_step > 0 and steps == max(1, int(0.9 * 3.0 / per_step))


def test_an_edited_checkpoint_state_is_refused_on_resume(tmp_path: Path) -> None:
    """state.json edited with its checksum recomputed (a step, a best score) or a missing best file: one
    InputError naming the state, before any weight is loaded (pscgan.training.resume_checks)."""
    import json
    import shutil

    import pytest

    from pscgan.errors import ConfigError, InputError
    from pscgan.training.checkpoint import _meta_digest, latest_checkpoint

    cfg = AnatomyConfig.tiny().model_copy(update={"steps": 4, "validation_interval": 4})
    frames = _frames()
    stopped = tmp_path / "stopped"
    train_anatomy(stopped, cfg, {"toy": frames}, frames, log=lambda _: None, max_seconds=0.0)

    def edited(name: str, key: str, value: object) -> Path:
        run = tmp_path / name
        shutil.copytree(stopped, run)
        path = latest_checkpoint(run) / "state.json"
        meta = json.loads(path.read_text())
        for pair in meta["state"]["__dict__"]:
            if pair[0] == key:
                pair[1] = value
        meta["meta_sha256"] = _meta_digest(meta)
        path.write_text(json.dumps(meta))
        return run

    cases = {"step": ("step", 3, "holds the state of step 3"),
             "best": ("best", {"__dict__": [["dice_mean", float("nan")], ["step", 1]]}, "best dice_mean"),
             "text": ("optimizer", "x", "optimiser")}
    for name, (key, value, message) in cases.items():
        with pytest.raises(InputError, match=message):
            train_anatomy(edited(name, key, value), cfg, {"toy": frames}, frames, log=lambda _: None)
    run = tmp_path / "no-best"
    shutil.copytree(stopped, run)
    (run / "best.safetensors").unlink()
    with pytest.raises(InputError, match="best.safetensors is missing"):
        train_anatomy(run, cfg, {"toy": frames}, frames, log=lambda _: None)
    with pytest.raises(ConfigError, match="another anatomy configuration"):
        other = cfg.model_copy(update={"lr": 0.5})
        train_anatomy(stopped, other, {"toy": frames}, frames, log=lambda _: None)
