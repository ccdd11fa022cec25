"""Table 6 baselines at a preset's sizes: parameters, FLOPs and training-step time, beside PSCGAN's.

For each baseline, one training step (:meth:`pscgan.baselines.tasks.BaselineTask.train_on`: forward,
losses, backward, Adam; pix2pix also its discriminator update) on a random batch of the preset's
shape; for PSCGAN, one training iteration of each phase of the same preset (2 discriminator steps + 1
generator step, :mod:`pscgan.bench.workloads`). Both are timed in the same process, interleaved, on
the same threads, so their ratio holds even on a shared machine; the load average is recorded.
FLOPs are torch's ``FlopCounterMode`` count of matmuls and convolutions of one step.

Command (writes the result file):
    python benchmarks/baselines.py --preset cpu --out benchmarks/results/baselines_cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from pscgan.baselines.config import BaselineKind, baseline_config
from pscgan.baselines.tasks import build_task
from pscgan.bench.models import machine_info
from pscgan.bench.workloads import build_workload
from pscgan.config.presets import get_preset
from pscgan.models.factory import count_parameters
from pscgan.models.flops import count_flops
from pscgan.models.phase import phases_for


def _batch(kind_config, seed: int = 0) -> dict[str, torch.Tensor]:
    rng = torch.Generator().manual_seed(seed)
    b, t, s = kind_config.batch_size, kind_config.frames, kind_config.image_size
    return {"cine": torch.rand(b, 1, t, s, s, generator=rng) * 2 - 1,
            "lge": torch.rand(b, 1, s, s, generator=rng) * 2 - 1,
            "labels": torch.randint(0, 4, (b, s, s), generator=rng)}


def _time(fn, repeats: int) -> list[float]:
    fn()  # warm-up: allocations, optimiser state
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    preset = get_preset(args.preset)
    load_before = os.getloadavg()
    baselines = {}
    for kind in BaselineKind:
        cfg = baseline_config(kind, args.preset)
        task = build_task(cfg, torch.device("cpu"))
        batch = _batch(cfg)
        flops = count_flops(lambda: task.train_on(batch))
        times = _time(lambda: task.train_on(batch), args.repeats)
        params = {name: count_parameters(m) for name, m in task.modules.items()}
        baselines[kind.value] = {"parameters": params, "batch_size": cfg.batch_size, "flops_per_step": flops,
                                 "seconds_per_step": statistics.median(times), "seconds_all": times,
                                 "config": cfg.model_dump(mode="json")}
        print(kind.value, params, f"{statistics.median(times):.3f} s/step", file=sys.stderr)
    pscgan = {}
    for phase in phases_for(progressive=preset.model.progressive):
        work = build_workload(preset, "iteration", phase)
        flops = count_flops(work.train_step)
        times = _time(work.train_step, args.repeats)
        pscgan[phase.value] = {"parameters": work.parameters, "batch_size": preset.train.batch_size,
                               "flops_per_step": flops, "seconds_per_step": statistics.median(times),
                               "seconds_all": times}
        print("pscgan", phase.value, f"{statistics.median(times):.3f} s/iteration", file=sys.stderr)
    cheapest = min(v["seconds_per_step"] for v in pscgan.values())
    for entry in baselines.values():
        entry["time_vs_cheapest_pscgan_iteration"] = entry["seconds_per_step"] / cheapest
    result = {
        "command": "python benchmarks/baselines.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine_info(),
        "threads": args.threads,
        "repeats": args.repeats,
        "load_average_1_5_15min": {"before": load_before, "after": os.getloadavg()},
        "preset": args.preset,
        "baselines": baselines,
        "pscgan_iteration": pscgan,
    }
    text = json.dumps(result, indent=2)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
