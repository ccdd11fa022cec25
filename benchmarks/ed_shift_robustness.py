"""How a model's results change when the cine's end-diastolic (ED) phase is read a phase or two off.

Every network input starts at ED. On a scan, which phase is ED is a reading -- the R-wave trigger (phase 0
of a DICOM series), the largest cavity, an expert's choice -- and readings differ by a phase or two (the
Sunnybrook experts contoured phase 18 or 19 of 20 as ED, where the trigger says phase 0). A model that
learned the phantom's exact timing must not fall apart when ED is off by one phase.

For each model and each shift ``s`` the phantom's test subjects are predicted with ``ed_phase`` set to
``s`` (mod the subject's phase count; the phantom's ED is phase 0) and scored by ``pscgan evaluate``
against the unchanged reference. Models are cascades (``--model NAME=WEIGHTS``) or baselines
(``--baseline NAME=WEIGHTS``), all without the anatomy network, so the numbers are the model's own.

With ``--sunnybrook``, each cascade also predicts the two real Sunnybrook subjects (with the anatomy
network, as ``pscgan predict`` does) from the experts' ED phase and from each shifted reading, and the
scar of each shifted reading is compared with the scar from the experts' ED: per subject the scar ratio,
and over the slices the Dice between the two scar masks (no reference scar exists; this is consistency,
not accuracy).

Usage:
    python benchmarks/ed_shift_robustness.py --data phantom --model "PSCGAN cpu=WEIGHTS" \\
        [--baseline "U-Net=WEIGHTS"] [--sunnybrook ../shared/data/sunnybrook-dev] \\
        --shifts -2 -1 0 1 2 --out benchmarks/results/ed_shift_robustness.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

METRICS = ("dice_scar", "dice_overall", "scar_ratio_r", "ssim")


def shifted_dataset(data: Path, out: Path, shift: int, split: str = "test") -> Path:
    """A copy of ``data``'s ``split`` part whose subjects say ED is phase ``shift`` (images linked, not
    copied)."""
    manifest = json.loads((data / "dataset.json").read_text())
    subjects = list(manifest["split"][split])
    out.mkdir(parents=True)
    for sid in subjects:
        (out / sid).mkdir()
        for f in sorted((data / sid).iterdir()):
            if f.name != "subject.json":
                (out / sid / f.name).symlink_to(f.resolve())
        info = json.loads((data / sid / "subject.json").read_text())
        info["ed_phase"] = (info["ed_phase"] + shift) % info["n_phases"]
        (out / sid / "subject.json").write_text(json.dumps(info))
    manifest["subjects"], manifest["split"] = subjects, {split: subjects}
    (out / "dataset.json").write_text(json.dumps(manifest))
    return out


def phantom_row(data: Path, weights: Path, shift: int, baseline: bool, tmp: Path) -> dict[str, Any]:
    from pscgan.evaluation.evaluate import evaluate
    from pscgan.experiments.metrics import run_metrics

    shifted = shifted_dataset(data, tmp / f"data_{shift}", shift)
    pred = tmp / f"pred_{shift}"
    if baseline:
        from pscgan.baselines import predict_baseline

        predict_baseline(weights, shifted, pred, split="test")
    else:
        from pscgan.inference.batch import predict_batch

        predict_batch([shifted], pred, weights=weights, split="test")
    evaluate(pred, data, tmp / f"eval_{shift}", overwrite=True)
    metrics = run_metrics(json.loads((tmp / f"eval_{shift}" / "evaluation.json").read_text()))
    return {k: metrics[k] for k in METRICS}


def sunnybrook_rows(root: Path, weights: Path, shifts: list[int]) -> list[dict[str, Any]]:
    """Per subject and shift: scar ratio, and the scar Dice against the reading at the experts' ED."""
    from pscgan.anatomy.model import default_anatomy_weights_path
    from pscgan.data.layout import load_subject
    from pscgan.inference.inputs import InputKind, LoadedInput, PredictInput
    from pscgan.inference.predictor import Predictor
    from pscgan.labels import Tissue

    model = Predictor.from_weights(weights, anatomy_weights=default_anatomy_weights_path())
    rows = []
    for folder in sorted(p for p in root.iterdir() if (p / "subject.json").is_file()):
        subject = load_subject(folder)
        ed = {shift: (subject.info.ed_phase + shift) % subject.info.n_phases for shift in set(shifts) | {0}}
        scar: dict[int, np.ndarray] = {}
        myocardium: dict[int, np.ndarray] = {}
        for shift in sorted(ed):
            item = LoadedInput(PredictInput(folder.name, InputKind.SUBJECT, folder), subject.cine,
                               subject.info.model_copy(update={"ed_phase": ed[shift]}), None)
            labels = model.predict(item).labels_original
            scar[shift] = labels == Tissue.SCAR
            myocardium[shift] = np.isin(labels, (Tissue.MYOCARDIUM, Tissue.SCAR))
        for shift in shifts:
            a, b = scar[shift], scar[0]
            union = int(a.sum() + b.sum())
            rows.append({"subject": folder.name, "shift": shift, "ed_phase": ed[shift],
                         "scar_ratio": float(a.sum() / max(int(myocardium[shift].sum()), 1)),
                         "scar_dice_vs_expert_ed": float(2 * (a & b).sum() / union) if union else None})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="Phantom dataset with a test split.")
    ap.add_argument("--model", action="append", default=[], help="NAME=WEIGHTS of a cascade (repeatable).")
    ap.add_argument("--baseline", action="append", default=[], help="NAME=WEIGHTS of a baseline.")
    ap.add_argument("--shifts", type=int, nargs="+", default=[-2, -1, 0, 1, 2])
    ap.add_argument("--sunnybrook", type=Path, help="The Sunnybrook cine dataset (consistency check).")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    import torch

    from pscgan.training.run_folder import portable_command

    torch.set_num_threads(1)
    result: dict[str, Any] = {
        "benchmark": "ed_shift_robustness", "command": portable_command(["python", *sys.argv]),
        "machine": {"platform": platform.platform(), "threads": 1}, "shifts": args.shifts,
        "what": "phantom test split predicted with ed_phase = true ED + shift (phases; the phantom has 25), "
                "scored against the unchanged reference; no anatomy network", "models": {}}
    models = [(m, False) for m in args.model] + [(m, True) for m in args.baseline]
    for spec, baseline in models:
        name, weights = spec.split("=", 1)
        t0 = time.time()
        entry: dict[str, Any] = {"weights": Path(weights).name, "baseline": baseline, "phantom": {}}
        with tempfile.TemporaryDirectory() as tmp:
            for shift in args.shifts:
                row = phantom_row(args.data, Path(weights), shift, baseline, Path(tmp))
                entry["phantom"][str(shift)] = row
                print(name, shift, json.dumps(row), flush=True)
        if args.sunnybrook is not None and not baseline:
            rows = sunnybrook_rows(args.sunnybrook, Path(weights), args.shifts)
            entry["sunnybrook"] = rows
            print(name, "sunnybrook", json.dumps(rows), flush=True)
        entry["seconds"] = time.time() - t0
        result["models"][name] = entry
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
