"""Training the anatomy network: one loop, resumable, with validation and the best weights kept.

Each step draws a batch of frames (real and phantom frames in a fixed proportion), augments them
(:mod:`.augment`) and takes an AdamW step on Dice + cross-entropy (MONAI ``DiceCELoss``), with the
learning rate decaying as ``(1 - step / steps) ** 0.9`` (nnU-Net's schedule). Every
``validation_interval`` steps the network segments the validation frames whole, and the weights with the
best mean blood-pool / myocardium Dice are written to ``best.safetensors``. A run folder holds
``config.json``, ``metrics.jsonl``, checkpoints (:mod:`pscgan.training.checkpoint`: atomic, verified,
no pickle) and, when done, ``model.safetensors`` (the best weights). ``train_anatomy`` on an existing
run folder continues from its last checkpoint: the batches drawn after a resume are the ones an
uninterrupted run would have drawn (the sampler is seeded by the step).

Example:
    >>> import numpy as np, tempfile
    >>> from pscgan.anatomy.frames import TrainingFrame
    >>> from pscgan.anatomy.network import AnatomyConfig
    >>> rr, cc = np.mgrid[:40, :40]
    >>> d = np.hypot(rr - 20, cc - 20)
    >>> lab = ((d < 6) * 1 + ((d >= 6) & (d < 9)) * 2).astype(np.uint8)
    >>> x = np.stack([np.where(d < 6, 1.0, -0.5), np.full((40, 40), -1.0)]).astype(np.float32)
    >>> frames = [TrainingFrame("s", "s[0]", x, lab)]
    >>> summary = train_anatomy(tempfile.mkdtemp(), AnatomyConfig.tiny(), {"phantom": frames}, frames,
    ...                         log=lambda line: None)
    >>> summary["steps"], sorted(summary["best"])
    (4, ['dice_blood_pool', 'dice_mean', 'dice_myocardium', 'lv_found', 'step'])
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from pscgan.anatomy.augment import apply, sample_params
from pscgan.anatomy.frames import AnatomyClass, TrainingFrame
from pscgan.anatomy.network import AnatomyConfig, build_network


AIR_MARGIN = 32
"""Pixels of air (-1) put around a whole frame before the network reads it. Training windows lie anywhere
in a frame, so the network has seen frame edges with air beyond them, but never an image edge at the
border of its input: without the margin it loses a small field of view such as the phantom's (myocardium
Dice 0.41 against 0.93 on phantom test frames)."""


def forward_padded(network: torch.nn.Module, x: torch.Tensor, multiple: int, *, margin: int = AIR_MARGIN
                   ) -> torch.Tensor:
    """Run ``network`` on ``(B, C, H, W)`` with ``margin`` pixels of air (-1) around it, padded further to a
    multiple of ``multiple``; returns the logits of the original pixels."""
    h, w = x.shape[-2:]
    ph, pw = (-(h + 2 * margin)) % multiple, (-(w + 2 * margin)) % multiple
    top, left = margin + ph // 2, margin + pw // 2
    x = F.pad(x, (left, margin + pw - pw // 2, top, margin + ph - ph // 2), value=-1.0)
    out = network(x)
    return out[..., top:top + h, left:left + w]


def train_anatomy(run: str | Path, config: AnatomyConfig, train: dict[str, list[TrainingFrame]],
                  validation: list[TrainingFrame], *, mix: dict[str, float] | None = None,
                  device: str | torch.device = "cpu", training_record: dict[str, Any] | None = None,
                  licence: str = "", log=print, max_seconds: float | None = None,  # noqa: ANN001
                  init: str | Path | None = None) -> dict[str, Any]:
    """Train (or continue training) the anatomy network in the run folder ``run``.

    Args:
        run: the run folder (created; an existing one is resumed from its last checkpoint).
        config: network and schedule.
        train: training frames by source name (e.g. ``{"acdc": [...], "phantom": [...]}``).
        validation: frames to select the best weights on.
        mix: probability of drawing each source per example (default: in proportion to their sizes).
        device: torch device.
        training_record: description of the data, stored in the weights' metadata.
        licence: licence of the weights, stored in their metadata.
        log: called with one line of progress per validation.
        max_seconds: stop (with a checkpoint, resumable) after this much wall time in this sitting.
        init: anatomy weights to start from (same network configuration) instead of a random start.

    Returns:
        ``{"steps": ..., "best": {...}, "seconds": ...}``; ``model.safetensors`` is written when all
        steps are done.
    """
    from monai.losses import DiceCELoss

    from pscgan.anatomy.model import save_anatomy_weights
    from pscgan.io.atomic import write_json_atomic
    from pscgan.errors import ConfigError
    from pscgan.training.checkpoint import (
        checkpoint_errors,
        latest_checkpoint,
        load_checkpoint,
        save_checkpoint,
    )
    from pscgan.training.resume_checks import check_step_resume
    from pscgan.training.run_folder import MetricsLog

    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    device = torch.device(device)
    sources = sorted(k for k, v in train.items() if v)
    if not sources:
        raise ValueError("no training frames")
    weights = np.array([(mix or {}).get(s, len(train[s])) for s in sources], np.float64)
    weights = weights / weights.sum()
    torch.manual_seed(config.seed)
    banks = {s: FrameBank(train[s], device) for s in sources}
    net = build_network(config).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True, batch=True)
    metrics = MetricsLog(run / "metrics.jsonl")
    step, best = 0, {"dice_mean": -1.0}
    record = {"config": config.model_dump(mode="json"), "mix": dict(zip(sources, weights.tolist())),
              "frames": {s: len(train[s]) for s in sources}, "validation_frames": len(validation),
              **(training_record or {})}
    if latest_checkpoint(run) is not None:
        ckpt = load_checkpoint(run, map_location=device)
        if not isinstance(ckpt.state, dict) or ckpt.state.get("config") != config.model_dump(mode="json"):
            raise ConfigError(ckpt.path / "state.json", "the run was trained with another anatomy "
                                                        "configuration; use a new folder")
        with checkpoint_errors(ckpt.path):
            # checksums prove the files are as written, not that an edited state.json fits this run
            step = check_step_resume(ckpt, step=ckpt.state["step"], steps=config.steps,
                                     optimizers={"network": ckpt.state["optimizer"]}, best=ckpt.state["best"],
                                     best_key="dice_mean", best_file=run / "best.safetensors")
            net.load_state_dict(ckpt.module_state("net"))
            opt.load_state_dict(ckpt.state["optimizer"])
            best = dict(ckpt.state["best"])
        metrics.truncate_after(step)
        log(f"resumed at step {step}")
    else:
        if init is not None:
            from pscgan.anatomy.model import AnatomyModel

            start = AnatomyModel.from_weights(init)
            if start.config.channels != config.channels or start.config.num_res_units != config.num_res_units:
                raise ConfigError(init, f"holds another network ({start.config.channels}) than this run's")
            net.load_state_dict(start.network.state_dict())
            record["init"] = {"file": Path(init).name, "sha256": start.metadata.get("sha256", "")}
        write_json_atomic(run / "config.json", record)
    started = time.monotonic()
    use_bf16 = device.type == "cuda"
    while step < config.steps:
        net.train()
        g = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
        x, y = _batch(banks, sources, weights, config, g, device)
        lr = config.lr * (1.0 - step / config.steps) ** 0.9
        for group in opt.param_groups:
            group["lr"] = lr
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            logits = net(x)
        loss = loss_fn(logits.float(), y[:, None])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        last = step == config.steps
        timed_out = max_seconds is not None and time.monotonic() - started > max_seconds
        if step % config.validation_interval == 0 or last or timed_out:
            scores = evaluate_frames(net, validation, config, device)
            entry = {"step": step, "loss": float(loss.detach()), "lr": lr, **scores,
                     "seconds": time.monotonic() - started}
            metrics.write(entry)
            log(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in entry.items()}))
            if scores["dice_mean"] > best["dice_mean"]:
                best = {"step": step, **scores}
                save_anatomy_weights(run / "best.safetensors", net, config, training={**record, "best": best},
                                     licence=licence)
            save_checkpoint(run, f"step_{step:08d}", modules={"net": net}, keep_last=1,
                            state={"step": step, "best": best, "optimizer": opt.state_dict(),
                                   "config": config.model_dump(mode="json")})
        if timed_out and not last:
            log(f"stopped after {max_seconds} s at step {step} (resumable)")
            return {"steps": step, "best": best, "seconds": time.monotonic() - started}
    if not (run / "model.safetensors").is_file():
        import shutil

        from pscgan.io.atomic import atomic_path

        with atomic_path(run / "model.safetensors") as tmp:
            shutil.copyfile(run / "best.safetensors", tmp)
    return {"steps": step, "best": best, "seconds": time.monotonic() - started}


class FrameBank:
    """Training frames of one source, padded (centred, air -1) into one tensor on the training device.

    Sampling and augmenting a batch is then a few tensor operations, with no per-frame copy or loop:
    on a GPU the step is no longer bound by Python.
    """

    def __init__(self, frames: list[TrainingFrame], device: torch.device) -> None:
        if not frames:
            raise ValueError("no frames")
        rows = max(f.labels.shape[0] for f in frames)
        cols = max(f.labels.shape[1] for f in frames)
        dtype = torch.float16 if device.type == "cuda" else torch.float32  # 8-bit data: fp16 is exact enough
        self.inputs = torch.full((len(frames), 2, rows, cols), -1.0, dtype=dtype)
        self.labels = torch.zeros((len(frames), rows, cols), dtype=torch.uint8)
        self.shapes = torch.tensor([f.labels.shape for f in frames], dtype=torch.int64)
        for i, f in enumerate(frames):
            r0, c0 = (rows - f.labels.shape[0]) // 2, (cols - f.labels.shape[1]) // 2
            r1, c1 = r0 + f.labels.shape[0], c0 + f.labels.shape[1]
            self.inputs[i, :, r0:r1, c0:c1] = torch.from_numpy(f.inputs)
            self.labels[i, r0:r1, c0:c1] = torch.from_numpy(f.labels)
        self.inputs, self.labels = self.inputs.to(device), self.labels.to(device)

    def __len__(self) -> int:
        return int(self.shapes.shape[0])


def _batch(banks: dict[str, FrameBank], sources: list[str], weights: np.ndarray, config: AnatomyConfig,
           g: torch.Generator, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """One augmented batch drawn with ``g`` (a pure function of the step, so resumes draw the same)."""
    picks = torch.multinomial(torch.from_numpy(weights), config.batch_size, replacement=True, generator=g)
    params = sample_params(config.batch_size, g)
    index = [int(torch.randint(len(banks[sources[k]]), (1,), generator=g)) for k in picks.tolist()]
    xs, ys = [], []
    for k, src in enumerate(sources):  # one augmentation call per source (frames of one canvas size)
        members = [i for i, pick in enumerate(picks.tolist()) if pick == k]
        if not members:
            continue
        bank = banks[src]
        rows = torch.tensor([index[i] for i in members])
        sub = type(params)(**{n: v[members] for n, v in vars(params).items()})
        xa, ya = apply(bank.inputs[rows.to(bank.inputs.device)].float(),
                       bank.labels[rows.to(bank.labels.device)].long(), sub, size=config.window, generator=g,
                       frame_shapes=bank.shapes[rows])
        xs.append((members, xa))
        ys.append((members, ya))
    order = [i for members, _ in xs for i in members]
    inverse = torch.argsort(torch.tensor(order)).to(device)
    x = torch.cat([xa for _, xa in xs])[inverse]
    y = torch.cat([ya for _, ya in ys])[inverse]
    if not config.motion_channel:
        x[:, 1] = -1.0
    return x, y


@torch.no_grad()
def evaluate_frames(net: torch.nn.Module, frames: list[TrainingFrame], config: AnatomyConfig,
                    device: torch.device) -> dict[str, float]:
    """Mean Dice of blood pool and myocardium over frames with an LV, and the fraction of them whose LV
    centre (blood pool + myocardium centroid) is found within 10 mm."""
    net.eval()
    dice: dict[AnatomyClass, list[float]] = {c: [] for c in (AnatomyClass.BLOOD_POOL,
                                                             AnatomyClass.MYOCARDIUM)}
    found = []
    for frame in frames:
        if not (frame.labels > 0).any():
            continue
        x = torch.from_numpy(frame.inputs)[None].to(device)
        if not config.motion_channel:
            x[:, 1] = -1.0
        pred = forward_padded(net, x, config.multiple).argmax(1)[0].cpu().numpy()
        for c in dice:
            a, b = pred == c, frame.labels == c
            dice[c].append(2.0 * (a & b).sum() / max(a.sum() + b.sum(), 1))
        p, t = np.argwhere(pred > 0), np.argwhere(frame.labels > 0)
        err = np.inf if len(p) == 0 else float(np.hypot(*(p.mean(0) - t.mean(0))) * config.spacing_mm)
        found.append(err <= 10.0)
    bp = float(np.mean(dice[AnatomyClass.BLOOD_POOL])) if found else float("nan")
    myo = float(np.mean(dice[AnatomyClass.MYOCARDIUM])) if found else float("nan")
    return {"dice_blood_pool": bp, "dice_myocardium": myo, "dice_mean": (bp + myo) / 2,
            "lv_found": float(np.mean(found)) if found else float("nan")}


def calibrate_steps(config: AnatomyConfig, train: dict[str, list[TrainingFrame]], minutes: float, *,
                    device: str | torch.device = "cpu", probe_steps: int = 20) -> tuple[int, float]:
    """Steps of ``config`` that fit ``minutes`` of training on ``device``: ``(steps, seconds per step)``.

    Times ``probe_steps`` steps (after 3 untimed ones) of a throw-away network on the same data, once, so
    that a run given a time budget is afterwards an ordinary, deterministic run of that many steps.
    """
    from monai.losses import DiceCELoss

    device = torch.device(device)
    sources = sorted(k for k, v in train.items() if v)
    weights = np.array([len(train[s]) for s in sources], np.float64)
    weights /= weights.sum()
    banks = {s: FrameBank(train[s], device) for s in sources}
    net = build_network(config).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True, batch=True)
    started = 0.0
    for step in range(probe_steps + 3):
        if step == 3:
            if device.type == "cuda":
                torch.cuda.synchronize()
            started = time.monotonic()
        x, y = _batch(banks, sources, weights, config, torch.Generator().manual_seed(step), device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = net(x)
        loss = loss_fn(logits.float(), y[:, None])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    per_step = (time.monotonic() - started) / probe_steps
    # validation and checkpoints take a little of the budget too: keep 10 % for them
    return max(1, int(0.9 * minutes * 60.0 / per_step)), per_step
