"""How much scar can phase III segment when it is given the *real* LGE as its condition?

A diagnostic of the conditioning route, not of the cascade: phase III's generator is trained alone
(supervised, no discriminator) with the ground-truth LGE as its condition, so any scar it misses is
lost between the condition and the output, not in the synthesis. Four variants, each trained from
the same seed on the same batches:

* the paper's conditioning (flattened condition at the bottleneck) with eq. (9)'s cross-entropy;
* the same plus the soft Dice term (``loss.segmentation_dice_weight=1``);
* the condition also fed to every upsampling block (``model.condition_injection=decoder``);
* both.

Command (the results in ``benchmarks/results/oracle_conditioning.json`` came from it)::

    pscgan phantom generate --subjects 280 --seed 0 --out phantom
    python benchmarks/oracle_conditioning.py --data phantom --steps 250 \\
        --out benchmarks/results/oracle_conditioning.json

Networks: the ``cpu`` preset of pscgan 0.1 before these options were adopted (bottleneck 1024 features,
decoder start 128 channels, condition pooled 2x in the bottleneck), so that only the two switches vary.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from pscgan.config.presets import get_preset
from pscgan.config.schema import apply_overrides
from pscgan.data.cache import TrainingCache, ensure_cache
from pscgan.evaluation.segmentation import SegmentationMetrics
from pscgan.losses.segmentation import foreground_dice_loss, multiclass_cross_entropy
from pscgan.models.factory import build_generator
from pscgan.models.phase import Phase
from pscgan.preprocessing.pipeline import PreprocessOptions
from pscgan.training.dataset import CineLgeDataset, collate
from pscgan.training.launch import subject_split
from pscgan.training.run_folder import environment_info

#: The cpu preset's networks before the conditioning options were adopted.
BASE = [
    "model.bottleneck_features=1024",
    "model.decoder_start_channels=128",
    "model.condition_pool=2",
    "model.condition_injection=bottleneck",
    "train.lr=0.001",
    "train.betas=[0.9,0.999]",
    "train.batch_size=4",
]
VARIANTS = {
    "paper conditioning, CE": ([], False),
    "paper conditioning, CE + Dice": ([], True),
    "decoder injection, CE": (["model.condition_injection=decoder"], False),
    "decoder injection, CE + Dice": (["model.condition_injection=decoder"], True),
}


def train_and_score(cache: TrainingCache, train: list[int], val: list[int], overrides: list[str], dice: bool,
                    steps: int, seed: int) -> dict[str, float]:
    cfg = apply_overrides(get_preset("cpu"), BASE + overrides)
    ds = CineLgeDataset(cache)
    torch.manual_seed(seed)
    g = build_generator(cfg, Phase.SEGMENTATION)
    opt = torch.optim.Adam(g.parameters(), lr=cfg.train.lr, betas=cfg.train.betas)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(steps):
        b = collate([ds[i] for i in rng.choice(train, cfg.train.batch_size)])
        logits = g(b["cine"], b["lge"])["mask_logits"]
        loss = multiclass_cross_entropy(logits, b["labels"])
        if dice:
            loss = loss + foreground_dice_loss(logits, b["labels"])
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    g.eval()
    metrics = SegmentationMetrics(hd95=False)
    with torch.no_grad():
        for k in range(0, len(val), 16):
            b = collate([ds[i] for i in val[k:k + 16]])
            metrics(g(b["cine"], b["lge"])["mask_logits"].argmax(1).numpy(), b["labels"].numpy())
    agg = metrics.aggregate()
    out = {"dice_overall": agg["overall"]["dice"].mean, "seconds_per_step": seconds / steps}
    for name in ("lv_blood_pool", "healthy_myocardium", "scar"):
        out[f"dice_{name}"] = agg["per_class"][name]["dice"].mean
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data", type=Path, required=True, help="phantom (or own) dataset in the canonical layout"
    )
    ap.add_argument("--steps", type=int, default=250)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = get_preset("cpu")
    cache = TrainingCache(ensure_cache(args.data, PreprocessOptions(n_phases=cfg.model.frames,
                                                                    crop_size=cfg.model.image_size)))
    split = subject_split(args.data, 0.1, cfg.train.seed)
    train, val = cache.indices_of(split["train"]), cache.indices_of(split["validation"])
    results = {}
    for name, (overrides, dice) in VARIANTS.items():
        results[name] = train_and_score(cache, train, val, overrides, dice, args.steps, args.seed)
        print(name, {k: round(v, 3) for k, v in results[name].items()}, flush=True)
    record = {
        "command": f"python benchmarks/oracle_conditioning.py --data DATA --steps {args.steps} "
        f"--seed {args.seed} --threads {args.threads} --out {args.out}",
        "base_overrides": BASE,
        "steps": args.steps,
        "validation_slices": len(val),
        "environment": environment_info(seed=args.seed, device="cpu", world_size=1, deterministic=False),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
