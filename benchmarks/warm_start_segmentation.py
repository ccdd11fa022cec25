"""Does phase III learn the scar sooner when it starts from phase I's generator?

Phase III (enhanced segmentation) of a trained run is trained again, twice, exactly as ``pscgan train``
trains it (the run's configuration, its training and validation subjects, the frozen phase I and II
generators of the run as the conditions, discriminator and every loss term), with only the steps per
phase and the validation interval changed:

* ``cold``: phase III's generator randomly initialised (the paper, and every run before the option);
* ``warm``: ``train.warm_start_segmentation=true``, phase III starting from phase I's generator, the
  weights reading the LGE condition at zero (:mod:`pscgan.training.warm_start`).

The result holds both validation curves (the trainer's own ``metrics.jsonl`` records), the seconds per
step, and phase I's validation metrics, which are the warm start's metrics at step 0 by construction.

Command (the result in ``benchmarks/results/warm_start_segmentation.json`` came from it)::

    pscgan train --data phantom --preset cpu --out run-cpu   # the bundled model's run
    python benchmarks/warm_start_segmentation.py --run run-cpu --steps 500 --interval 50 --threads 1 \\
        --out benchmarks/results/warm_start_segmentation.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from pscgan.config.schema import apply_overrides, load_config
from pscgan.data.cache import TrainingCache, ensure_cache
from pscgan.data.protocol import preprocess_options
from pscgan.models.phase import Phase
from pscgan.models.weights import load_weights
from pscgan.training.conditions import CacheSamples, Subset
from pscgan.training.distributed import init_distributed
from pscgan.training.run_folder import environment_info
from pscgan.training.trainer import ProgressiveTrainer
from pscgan.training.validation import validate

VARIANTS = {"cold": False, "warm": True}


def train_phase_three(config: Any, cache: TrainingCache, train: list[int], val: list[int],
                      frozen: dict[Phase, torch.nn.Module]) -> dict[str, Any]:
    """Phase III trained alone after the given frozen phases; its validation curve and speed."""
    ctx = init_distributed("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        trainer = ProgressiveTrainer(config, Path(tmp), cache, train, val, ctx)
        trainer.frozen = dict(frozen)  # phases I and II as the run trained them
        start = time.perf_counter()
        # the trainer's own phase loop, entered at phase III (index 2) from a fresh state
        trainer._train_phase(trainer.phases.index(Phase.SEGMENTATION), None)
        seconds = time.perf_counter() - start
        records = trainer.metrics.read()
    curve = [{k: v for k, v in r.items() if k == "phase_step" or k.startswith("val_")}
             for r in records if "val_score" in r]
    return {"seconds_per_step": seconds / config.train.steps_per_phase, "validation": curve}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=Path, required=True, help="a finished pscgan train run folder")
    ap.add_argument("--data", type=Path, help="dataset (default: the one recorded in the run's split.json)")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--interval", type=int, default=50, help="validation interval (generator steps)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    base = load_config(args.run / "config.json")
    split = json.loads((args.run / "split.json").read_text())
    data = args.data or Path(split["dataset"])
    cascade, _ = load_weights(args.run / "model.safetensors")
    frozen = {p: cascade.generators[p.value].eval().requires_grad_(False)
              for p in (Phase.COARSE, Phase.SYNTHESIS)}
    pre = preprocess_options(data, register_lge=base.train.register_lge, n_phases=base.model.frames,
                             crop_size=base.model.image_size)
    cache = TrainingCache(ensure_cache(data, pre))
    train, val = cache.indices_of(split["train"]), cache.indices_of(split["validation"])
    val_set = Subset(CacheSamples(cache), val)
    phase_one = validate(Phase.COARSE, frozen[Phase.COARSE], val_set, torch.device("cpu"))
    results = {}
    for name, warm in VARIANTS.items():
        config = apply_overrides(base, [f"train.steps_per_phase={args.steps}",
                                        f"train.validation_interval={args.interval}",
                                        f"train.checkpoint_interval={args.steps}",
                                        f"train.num_threads={args.threads}",
                                        f"train.warm_start_segmentation={str(warm).lower()}"])
        results[name] = train_phase_three(config, cache, train, val, frozen)
        last = results[name]["validation"][-1]
        print(name, {k: round(v, 3) for k, v in last.items() if isinstance(v, float)}, flush=True)
    record = {
        "command": f"python benchmarks/warm_start_segmentation.py --run RUN --steps {args.steps} "
                   f"--interval {args.interval} --threads {args.threads} --out {args.out}",
        "run_config": base.model_dump(mode="json"),
        "steps": args.steps,
        "training_slices": len(train),
        "validation_slices": len(val),
        "phase_one_validation": {k: v for k, v in phase_one.items() if isinstance(v, float)},
        "environment": environment_info(seed=base.train.seed, device="cpu", world_size=1,
                                        deterministic=False),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
