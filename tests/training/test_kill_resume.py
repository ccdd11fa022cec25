"""Kill and resume: a training run SIGKILLed at ten seeded-random moments and resumed each time ends with
exactly the weights and metrics of an uninterrupted deterministic run.

The moments: one at a random time after launch (often during start-up), two inside checkpoint writing
(through the checkpoint module's fault-injection variable: after the ``.partial`` folder is complete but
before its rename, and after the rename but before ``latest.json`` moves), and seven a random fraction of
a second after a random training step was logged (anywhere in a step, a validation or a checkpoint).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from pscgan.training.checkpoint import KILL_HOOK_ENV

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")]

STEPS_PER_PHASE = 6
TOTAL_STEPS = 3 * STEPS_PER_PHASE
OVERRIDES = [f"train.steps_per_phase={STEPS_PER_PHASE}", "train.checkpoint_interval=2",
             "train.validation_interval=3"]
STEP_LINE = re.compile(r" INFO step=(\d+) ")
TIMEOUT_S = 180


def _command(data: Path, run: Path) -> list[str]:
    """Resume when the run folder is resumable, else (killed before config.json) start it again."""
    cmd = [sys.executable, "-m", "pscgan.train", "--deterministic"]
    if (run / "config.json").is_file():
        return cmd + ["--resume", str(run)]
    return cmd + ["--data", str(data), "--out", str(run), "--preset", "tiny", "--overwrite",
                  *[x for o in OVERRIDES for x in ("--set", o)]]


def _launch(data: Path, run: Path, hook: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != KILL_HOOK_ENV}
    if hook is not None:
        env[KILL_HOOK_ENV] = hook
    return subprocess.Popen(_command(data, run), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for_step(proc: subprocess.Popen, log: Path, offset: int, target: int) -> bool:
    """Wait until this process logs a step >= ``target`` (True) or exits (False)."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if log.is_file():
            text = log.read_bytes()
            new = text[offset:] if len(text) >= offset else text  # a restarted run starts a new log
            if any(int(m) >= target for m in STEP_LINE.findall(new.decode("utf-8", "replace"))):
                return True
        time.sleep(0.01)
    raise AssertionError(f"training did not reach step {target} within {TIMEOUT_S} s")


def _kill(proc: subprocess.Popen) -> bool:
    """SIGKILL ``proc``; True when it was still running (a real kill)."""
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait(TIMEOUT_S)
    return True


def _plan(rng: random.Random) -> list[tuple[str, object]]:
    """Ten kill moments in order: ("time", seconds), ("hook", spec) or ("step", global step)."""
    special = rng.sample(range(8), 3)  # hooks not last, so the run still has checkpoints to write
    steps = iter(sorted(rng.sample(range(2, TOTAL_STEPS), 7)))
    kinds = {special[0]: ("time", rng.uniform(0.3, 3.0)), special[1]: ("hook", f"{rng.randint(1, 2)}"),
             special[2]: ("hook", f"{rng.randint(1, 2)}:pointer")}
    return [kinds.get(i) or ("step", next(steps)) for i in range(10)]


def _records(run: Path) -> list[dict]:
    out = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "seconds_per_step"} for r in out]  # wall-clock timing differs


def _weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path))


def test_training_killed_ten_times_ends_like_an_uninterrupted_run(tiny_ring_dataset, tmp_path):
    ref_data, data = tmp_path / "data_ref", tmp_path / "data"
    shutil.copytree(tiny_ring_dataset, ref_data)  # each run builds its own cache: no shared writer
    shutil.copytree(tiny_ring_dataset, data)
    reference = _launch(ref_data, tmp_path / "reference")  # runs alongside the killed one
    run, log = tmp_path / "run", tmp_path / "run" / "train.log"
    rng = random.Random(7)
    kills = []
    for kind, arg in _plan(rng):
        offset = log.stat().st_size if log.is_file() else 0
        proc = _launch(data, run, hook=arg if kind == "hook" else None)
        if kind == "time":
            try:
                proc.wait(arg)
            except subprocess.TimeoutExpired:
                pass
        elif kind == "step" and _wait_for_step(proc, log, offset, arg):
            time.sleep(rng.uniform(0.0, 0.3))  # land anywhere in the following step
        if kind == "hook":
            assert proc.wait(TIMEOUT_S) == -signal.SIGKILL, proc.stderr.read().decode()
            if ":" not in arg:  # killed between writing the temporary folder and renaming it
                assert list((run / "checkpoints").glob("*.partial")), "the kill missed the checkpoint write"
            killed = True
        else:
            killed = _kill(proc)
        assert killed or proc.returncode == 0, proc.stderr.read().decode()
        kills.append((kind, arg, killed))
    assert sum(k for *_, k in kills) >= 9, kills  # at most the start-up timer may find the process gone
    final = _launch(data, run)
    assert final.wait(TIMEOUT_S) == 0, final.stderr.read().decode()
    assert reference.wait(TIMEOUT_S) == 0, reference.stderr.read().decode()

    a, b = _weights(tmp_path / "reference" / "model.safetensors"), _weights(run / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=0, atol=0, msg=k)
    steps = [r["step"] for r in _records(run)]
    assert steps == list(range(1, TOTAL_STEPS + 1)), f"duplicated or missing steps after {kills}: {steps}"
    assert _records(run) == _records(tmp_path / "reference")
