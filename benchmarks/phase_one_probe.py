"""How fast does phase I (cine -> coarse mask) learn the scar under different settings?

Phase I is where the cascade first has to find the scar, and the ablation tables show that at a few
hundred steps per phase it does not. This probe trains phase I only, exactly as ``pscgan train``
does (same preset, subjects, validation and losses; the run stops when phase I ends), once per
variant given as ``NAME=override,override``, and records the trainer's validation curve of each.

Command (the result in ``benchmarks/results/phase_one_probe.json`` came from it)::

    pscgan phantom generate --subjects 280 --seed 0 --out phantom
    python benchmarks/phase_one_probe.py --data phantom --steps 500 --interval 125 --threads 1 \\
        --variant "cpu preset=" \\
        --variant "paper optimiser=train.lr=0.001,train.betas=[0.9,0.999]" \\
        --out benchmarks/results/phase_one_probe.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from pscgan.config.presets import get_preset
from pscgan.config.schema import apply_overrides
from pscgan.training.launch import TrainOptions, run_training
from pscgan.training.run_folder import MetricsLog, environment_info


def parse_variant(text: str) -> tuple[str, list[str]]:
    """``NAME=a=1,b=2`` -> (``NAME``, [``a=1``, ``b=2``]); commas inside brackets stay."""
    name, _, rest = text.partition("=")
    overrides, depth, current = [], 0, ""
    for ch in rest:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            overrides.append(current)
            current = ""
        else:
            current += ch
    if current:
        overrides.append(current)
    return name.strip(), [o.strip() for o in overrides if o.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--interval", type=int, default=125, help="validation interval (generator steps)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variant", action="append", required=True, help="NAME=override,override (repeatable)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    common = [f"train.steps_per_phase={args.steps}", f"train.validation_interval={args.interval}",
              f"train.checkpoint_interval={args.steps}", f"train.num_threads={args.threads}"]
    results = {}
    for text in args.variant:
        name, overrides = parse_variant(text)
        config = apply_overrides(get_preset(args.preset), overrides + common)
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / "run"
            start = time.perf_counter()
            # stop_after = one phase: the run ends with phase I trained and validated
            run_training(TrainOptions(run=run, data=args.data, config=config, progress=False,
                                      stop_after=args.steps))
            seconds = time.perf_counter() - start
            records = MetricsLog(run / "metrics.jsonl").read()
        curve = [{k: v for k, v in r.items() if k == "phase_step" or k.startswith("val_")}
                 for r in records if "val_score" in r and r.get("phase") == "coarse"]
        results[name] = {"overrides": overrides, "seconds_per_step": seconds / args.steps,
                         "validation": curve}
        print(name, {k: round(v, 3) for k, v in curve[-1].items() if isinstance(v, float)}, flush=True)
    record = {
        "command": "python benchmarks/phase_one_probe.py --data DATA "
                   f"--preset {args.preset} --steps {args.steps} --interval {args.interval} "
                   f"--threads {args.threads} " + " ".join(f'--variant "{v}"' for v in args.variant)
                   + f" --out {args.out}",
        "preset": args.preset,
        "steps": args.steps,
        "environment": environment_info(seed=get_preset(args.preset).train.seed, device="cpu"),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
