from __future__ import annotations

import json
import signal

import numpy as np
import pytest
import torch

from pscgan.errors import InputError
from pscgan.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from pscgan.training.rng import rng_state, seed_everything, set_rng_state
from pscgan.training.tree_codec import decode, encode


def _trained(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LeakyReLU(), torch.nn.Linear(8, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(3):
        opt.zero_grad()
        net(torch.randn(5, 4)).pow(2).mean().backward()
        opt.step()
    return net, opt


def test_tree_codec_round_trip_preserves_key_types():
    state = {"state": {0: {"step": torch.tensor(2.0), "exp_avg": torch.ones(3)}},
             "param_groups": [{"lr": 1e-3, "betas": (0.5, 0.999), "params": [0]}], "flag": None}
    tensors, skeleton = encode(state)
    json.dumps(skeleton)
    back = decode(tensors, skeleton)
    assert list(back["state"]) == [0]
    assert back["param_groups"][0]["betas"] == (0.5, 0.999)
    torch.testing.assert_close(back["state"][0]["exp_avg"], torch.ones(3))


def test_tree_codec_refuses_arbitrary_objects():
    with pytest.raises(TypeError, match="without pickle"):
        encode({"x": object()})


def test_resume_continues_exactly(tmp_path):
    net, opt = _trained()
    save_checkpoint(tmp_path, "step_00000003", modules={"g": net}, state={"opt": opt.state_dict(), "step": 3})
    net2, opt2 = _trained(seed=1)  # different weights and moments
    ck = load_checkpoint(tmp_path)
    net2.load_state_dict(ck.module_state("g"))
    opt2.load_state_dict(ck.state["opt"])
    x = torch.randn(5, 4)
    for n, o in ((net, opt), (net2, opt2)):
        o.zero_grad()
        n(x).pow(2).mean().backward()
        o.step()
    for a, b in zip(net.parameters(), net2.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_rng_state_round_trip_through_checkpoint(tmp_path):
    seed_everything(5)
    saved = rng_state()
    expected = (np.random.rand(), torch.rand(1).item())
    save_checkpoint(tmp_path, "step_00000001", modules={}, state={"rng": saved})
    np.random.rand(), torch.rand(1)
    set_rng_state(load_checkpoint(tmp_path).state["rng"])
    assert (np.random.rand(), torch.rand(1).item()) == expected


def test_corrupted_weights_are_refused(tmp_path):
    net, _ = _trained()
    folder = save_checkpoint(tmp_path, "step_00000001", modules={"g": net}, state={})
    f = folder / "weights.safetensors"
    data = bytearray(f.read_bytes())
    data[-3] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(InputError, match="checksum mismatch"):
        load_checkpoint(tmp_path)


def test_edited_checkpoint_metadata_is_refused(tmp_path):
    net, _ = _trained()
    folder = save_checkpoint(tmp_path, "step_00000001", modules={"g": net},
                             state={"train": {"phase_step": 7, "lr_scale": 0.5}})
    meta_path = folder / "state.json"
    text = meta_path.read_text()
    assert '"phase_step"' in text or "phase_step" in text
    meta = json.loads(text)
    meta["name"] = "step_00000002"  # any edit of the metadata, e.g. a flipped digit
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(InputError, match="metadata is corrupted"):
        load_checkpoint(tmp_path)


def test_half_written_checkpoint_is_ignored(tmp_path):
    net, _ = _trained()
    save_checkpoint(tmp_path, "step_00000001", modules={"g": net}, state={"step": 1})
    # a crash while writing the next one leaves only a .partial folder; latest still points to step 1
    (tmp_path / "checkpoints" / "step_00000002.partial").mkdir()
    assert load_checkpoint(tmp_path).state["step"] == 1


def test_keep_last_prunes_but_protects(tmp_path):
    net, _ = _trained()
    for i in range(1, 6):
        save_checkpoint(tmp_path, f"step_{i:08d}", modules={"g": net}, state={"step": i}, keep_last=2,
                        protect={"step_00000001"})
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir() if p.is_dir())
    assert names == ["step_00000001", "step_00000004", "step_00000005"]
    assert latest_checkpoint(tmp_path).name == "step_00000005"


def test_missing_checkpoint_message(tmp_path):
    with pytest.raises(InputError, match="no checkpoint found"):
        load_checkpoint(tmp_path)


def test_unknown_module_name(tmp_path):
    net, _ = _trained()
    save_checkpoint(tmp_path, "step_00000001", modules={"g": net}, state={})
    with pytest.raises(InputError, match="no weights for module 'd'"):
        load_checkpoint(tmp_path).module_state("d")


def test_a_checkpoint_moved_aside_by_a_killed_save_is_put_back(tmp_path):
    net, _ = _trained()
    save_checkpoint(tmp_path, "step_00000002", modules={"g": net}, state={"step": 2})
    ckdir = tmp_path / "checkpoints"
    # Killed while re-saving under the same name: the old folder was moved aside, the new one not renamed in.
    (ckdir / "step_00000002").rename(ckdir / "step_00000002.old")
    (ckdir / "step_00000002.partial").mkdir()
    assert load_checkpoint(tmp_path).state["step"] == 2
    assert (ckdir / "step_00000002").is_dir() and not (ckdir / "step_00000002.old").exists()
    save_checkpoint(tmp_path, "step_00000002", modules={"g": net}, state={"step": 3})  # replaced in place
    assert sorted(p.name for p in ckdir.iterdir()) == ["latest.json", "step_00000002"]
    assert load_checkpoint(tmp_path).state["step"] == 3


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_fault_hook_kills_inside_the_checkpoint_write_only_when_asked(tmp_path):
    import os
    import subprocess
    import sys

    from pscgan.training.checkpoint import KILL_HOOK_ENV

    script = (
        "import sys, torch; from pscgan.training.checkpoint import save_checkpoint as s\n"
        "for i in (1, 2): s(sys.argv[1], f'step_{i:08d}', modules={'g': torch.nn.Linear(2, 2)}, state={})"
    )
    env = {k: v for k, v in os.environ.items() if k != KILL_HOOK_ENV}
    assert subprocess.run([sys.executable, "-c", script, str(tmp_path / "inert")], env=env).returncode == 0
    assert (
        json.loads((tmp_path / "inert" / "checkpoints" / "latest.json").read_text())["name"]
        == "step_00000002"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "killed")], env={**env, KILL_HOOK_ENV: "2"}
    )
    assert proc.returncode == -signal.SIGKILL
    ckdir = tmp_path / "killed" / "checkpoints"
    assert sorted(p.name for p in ckdir.iterdir()) == [
        "latest.json",
        "step_00000001",
        "step_00000002.partial",
    ]
    assert load_checkpoint(tmp_path / "killed").path.name == "step_00000001"
