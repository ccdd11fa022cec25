"""Benchmark: training throughput per preset and phase, and cascade inference latency per slice.

Training: real trainer steps (``discriminator_step`` x d_steps + ``generator_step``, and the generator
step alone, as in the adversarial warm-up) on random tensors of the preset's shape, after warm-up;
reports seconds per iteration per phase and the training time the preset's step schedule implies.
Inference: the full three-generator cascade on 25x64x64 slices (batch 1 and batch 16), plus the
preprocessing of one 64x64 slice. Writes ``benchmarks/results/training_and_inference.json``.

Usage::

    python benchmarks/training_and_inference.py                       # cpu and paper presets
    python benchmarks/training_and_inference.py --presets cpu --steps 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch

import pscgan
from pscgan.config.presets import get_preset
from pscgan.models.factory import build_cascade
from pscgan.models.phase import phases_for
from pscgan.training.distributed import init_distributed
from pscgan.training.steps import discriminator_step, generator_step
from pscgan.training.trainer import build_phase

RESULT = Path(__file__).resolve().parent / "results" / "training_and_inference.json"


def _batch(cfg, phase, batch_size: int) -> dict:
    m = cfg.model
    b = {"cine": torch.rand(batch_size, 1, m.frames, m.image_size, m.image_size) * 2 - 1,
         "labels": torch.randint(0, m.classes, (batch_size, m.image_size, m.image_size)),
         "lge": torch.rand(batch_size, 1, m.image_size, m.image_size) * 2 - 1}
    ch = phase.condition_channels(m.classes)
    if ch:
        b["condition"] = torch.rand(batch_size, ch, m.image_size, m.image_size)
    return b


def training_throughput(preset: str, steps: int) -> dict:
    """Seconds per iteration of each phase with its discriminator step(s) and without them (the
    adversarial warm-up), and the training time the preset's schedule implies: each phase's steps
    (``phase_step_shares``), the first ``adversarial_warmup_steps`` of each without the discriminator."""
    cfg = get_preset(preset)
    ctx = init_distributed(device="cpu")
    out = {}
    phases = phases_for(progressive=cfg.model.progressive)
    phase_steps = cfg.train.phase_steps(len(phases))
    minutes = 0.0
    for phase, n_steps in zip(phases, phase_steps, strict=True):
        nets = build_phase(cfg, phase, ctx.device)
        bs = cfg.train.batch_size
        batch = _batch(cfg, phase, bs)

        def iteration(adversarial: bool) -> None:
            if adversarial:
                for _ in range(cfg.train.d_steps_per_g_step):
                    discriminator_step(
                        phase,
                        cfg.loss,
                        nets.generator,
                        nets.discriminator,
                        nets.opt_d,
                        batch,
                        ctx,
                        cfg.model.classes,
                    )
            generator_step(phase, cfg.loss, nets.generator, nets.discriminator, nets.opt_g, batch, ctx,
                           cfg.model.classes, supervised_only=not adversarial)

        def median_seconds(adversarial: bool) -> float:
            iteration(adversarial)  # warm-up
            times = []
            for _ in range(steps):
                t0 = time.perf_counter()
                iteration(adversarial)
                times.append(time.perf_counter() - t0)
            return statistics.median(times)

        with_d = median_seconds(True) if nets.discriminator is not None else None
        without_d = median_seconds(False)
        supervised_only = min(n_steps, cfg.train.adversarial_warmup_steps) if with_d is not None else n_steps
        minutes += (supervised_only * without_d + (n_steps - supervised_only) * (with_d or 0.0)) / 60
        out[phase.value] = {"steps": n_steps, "steps_without_discriminator": supervised_only,
                            "seconds_per_iteration": round(with_d, 4) if with_d is not None else None,
                            "seconds_per_iteration_without_discriminator": round(without_d, 4),
                            "batch_size": bs, "d_steps_per_g_step": cfg.train.d_steps_per_g_step}
    out["estimated_training_minutes"] = round(minutes, 1)
    out["steps_per_phase"] = cfg.train.steps_per_phase
    return out


@torch.no_grad()
def inference_latency(preset: str, repeats: int) -> dict:
    cfg = get_preset(preset)
    cascade = build_cascade(cfg).eval()
    m = cfg.model
    res = {}
    for bs in (1, 16):
        x = torch.rand(bs, 1, m.frames, m.image_size, m.image_size) * 2 - 1
        cascade(x)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            cascade(x)
            times.append(time.perf_counter() - t0)
        res[f"batch_{bs}"] = {"seconds_per_batch": round(statistics.median(times), 4),
                              "seconds_per_slice": round(statistics.median(times) / bs, 4)}
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["cpu", "paper"])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    result = {"benchmark": "training_and_inference", "command": shlex.join(["python", *sys.argv]),
              "threads": args.threads, "cpu_count": os.cpu_count(),
              "versions": {"pscgan": pscgan.__version__, "torch": torch.__version__,
                           "python": platform.python_version()},
              "machine": platform.machine(), "presets": {}}
    for preset in args.presets:
        print(f"{preset}: training ...", flush=True)
        train = training_throughput(preset, args.steps)
        print(f"{preset}: inference ...", flush=True)
        infer = inference_latency(preset, args.repeats)
        result["presets"][preset] = {"training": train, "inference": infer}
        print(json.dumps(result["presets"][preset], indent=1), flush=True)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {RESULT}")


if __name__ == "__main__":
    main()
