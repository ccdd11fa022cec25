"""LV localisation and blood-pool / myocardium segmentation on real cine, and the phantom beside it.

For each method (the shipped pipeline with the anatomy network, and ``--no-anatomy``: the cascade alone
with the LV found from the cine's motion), per slice with expert labels:

* ``sunnybrook-dev`` (2 ischaemic heart-failure patients, 18 labelled slices): the expert ED phase;
* ACDC (the fixed validation patients of ``pscgan.anatomy.acdc``, never trained on): ED and ES frames,
  each given as a two-phase "cine" (the frame, then the other), by ACDC group;
* optionally the phantom test split, through ``pscgan predict`` and ``pscgan evaluate`` (each of the
  three sources is optional).

Per slice: LV-centre error (mm) between the centroids of the predicted and the expert LV (blood pool +
myocardium, scar included), found = error <= 10 mm, myocardium Dice (healthy + scar against the expert
myocardium) and blood-pool Dice, on the original grid. Slices where the prediction holds no LV count as
not found, with Dice 0.

Usage:
    python benchmarks/real_cine.py --sunnybrook ../shared/data/sunnybrook-dev \\
        --acdc ../shared/data/acdc-edes [--phantom phantom] --out benchmarks/results/real_cine.json

ACDC data: Bernard et al., IEEE TMI 37(11):2514-2525, 2018 (CC BY-NC-SA 4.0, non-commercial).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def slice_scores(pred: np.ndarray, ref: np.ndarray, spacing_mm: float) -> dict[str, float]:
    """Scores of one slice: pscgan tissue labels ``pred``, and ``ref`` with 1 blood pool, 2 myocardium."""
    def dice(a: np.ndarray, b: np.ndarray) -> float:
        return float(2.0 * (a & b).sum() / max(int(a.sum() + b.sum()), 1))

    lv_p, lv_r = pred > 0, ref > 0
    err = (float(np.hypot(*((np.argwhere(lv_p).mean(0) - np.argwhere(lv_r).mean(0)) * spacing_mm)))
           if lv_p.any() else float("inf"))
    return {"centre_error_mm": err, "found": bool(err <= 10.0),
            "dice_myocardium": dice(np.isin(pred, (2, 3)), ref == 2),
            "dice_blood_pool": dice(pred == 1, ref == 1)}


def summarise(rows: list[dict]) -> dict[str, float]:
    if not rows:
        return {}
    errs = np.array([r["centre_error_mm"] for r in rows])
    return {"slices": len(rows), "found_within_10mm": float(np.mean([r["found"] for r in rows])),
            "centre_error_mm_median": float(np.median(errs)),
            "dice_myocardium_mean": float(np.mean([r["dice_myocardium"] for r in rows])),
            "dice_blood_pool_mean": float(np.mean([r["dice_blood_pool"] for r in rows]))}


def predictor(anatomy: bool, fov_heart_ratio: float | None = None,  # noqa: ANN201
              anatomy_weights: Path | None = None):
    from pscgan.anatomy.model import default_anatomy_weights_path
    from pscgan.inference.predictor import Predictor, default_weights_path

    weights = (anatomy_weights or default_anatomy_weights_path()) if anatomy else None
    return Predictor.from_weights(default_weights_path(), anatomy_weights=weights,
                                  fov_heart_ratio=fov_heart_ratio if anatomy else None)


def sunnybrook(root: Path, model) -> list[dict]:  # noqa: ANN001
    from pscgan.data.layout import load_subject
    from pscgan.inference.inputs import InputKind, LoadedInput, PredictInput

    rows = []
    for folder in sorted(p for p in root.iterdir() if (p / "subject.json").is_file()):
        subject = load_subject(folder, require_labels=True)
        item = LoadedInput(PredictInput(folder.name, InputKind.SUBJECT, folder), subject.cine,
                           subject.info, None)
        pred = model.predict(item).labels_original
        ref = subject.labels.array
        for k in range(ref.shape[2]):
            if (ref[:, :, k] > 0).any():
                rows.append({"subject": folder.name, "slice": k,
                             **slice_scores(pred[:, :, k], ref[:, :, k], float(subject.cine.spacing[0]))})
    return rows


def acdc(root: Path, model) -> list[dict]:  # noqa: ANN001
    import nibabel as nib

    from pscgan.anatomy.acdc import read_patients, split_patients
    from pscgan.inference.inputs import InputKind, LoadedInput, PredictInput
    from pscgan.io.image import ImageVolume

    groups = read_patients(root)
    rows = []
    for patient in split_patients(root)["validation"]:
        imgs = {n: nib.load(root / patient / f"{n}.nii.gz") for n in ("ed", "es")}
        data = {n: v.get_fdata(dtype=np.float32) for n, v in imgs.items()}
        for frame, other in (("ed", "es"), ("es", "ed")):
            ref = np.asarray(nib.load(root / patient / f"{frame}_labels.nii.gz").dataobj)
            ref = np.select([ref == 3, ref == 2], [1, 2], 0)
            zooms = imgs[frame].header.get_zooms()
            cine = ImageVolume(np.stack([data[frame], data[other]], axis=-1),
                               spacing=tuple(map(float, zooms)),
                               affine=imgs[frame].affine, source=root / patient / f"{frame}.nii.gz")
            item = LoadedInput(PredictInput(f"{patient}_{frame}", InputKind.NIFTI, root / patient), cine,
                               None, None)
            pred = model.predict(item).labels_original
            for k in range(ref.shape[2]):
                if (ref[:, :, k] > 0).any():
                    rows.append({"subject": patient, "group": groups[patient], "frame": frame, "slice": k,
                                 **slice_scores(pred[:, :, k], ref[:, :, k], float(zooms[0]))})
    return rows


def phantom(root: Path, anatomy: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pred"
        cmd = ["pscgan", "predict", str(root), "--split", "test", "--out", str(out)]
        subprocess.run(cmd + ([] if anatomy else ["--no-anatomy"]), check=True, capture_output=True)
        subprocess.run(["pscgan", "evaluate", str(out), str(root)], check=True, capture_output=True)
        result = json.loads((out / "evaluation" / "evaluation.json").read_text())
    result["prediction"] = out.name  # a temporary folder: its name, not a path of this machine
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sunnybrook", type=Path)
    ap.add_argument("--acdc", type=Path)
    ap.add_argument("--phantom", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--fov-heart-ratio", type=float, help="Override the predictor's field-of-view rule.")
    ap.add_argument("--anatomy-only", action="store_true", help="Skip the cascade-only comparison.")
    ap.add_argument("--anatomy-weights", type=Path, help="Other anatomy weights than the bundled ones.")
    args = ap.parse_args()
    import torch

    from pscgan.training.run_folder import portable_command

    torch.set_num_threads(1)
    result: dict = {"benchmark": "real_cine", "command": portable_command(["python", *sys.argv]),
                    "machine": {"platform": platform.platform(), "threads": 1}, "methods": {}}
    methods = (("anatomy_network", True),) + (() if args.anatomy_only else (("cascade_only", False),))
    for name, anatomy in methods:
        t0 = time.time()
        model = predictor(anatomy, args.fov_heart_ratio, args.anatomy_weights)
        if anatomy:
            result["fov_heart_ratio"] = model.options.fov_heart_ratio
            result["anatomy_weights"] = {"file": args.anatomy_weights.name if args.anatomy_weights
                                         else "bundled", "sha256": model.anatomy.metadata.get("sha256")}
        sb = sunnybrook(args.sunnybrook, model) if args.sunnybrook else []
        ac = acdc(args.acdc, model) if args.acdc else []
        groups = sorted({r["group"] for r in ac})
        entry = {"sunnybrook": summarise(sb), "acdc": summarise(ac),
                 "acdc_by_frame": {f: summarise([r for r in ac if r["frame"] == f]) for f in ("ed", "es")},
                 "acdc_by_group": {g: summarise([r for r in ac if r["group"] == g]) for g in groups},
                 "per_slice": {"sunnybrook": sb, "acdc": ac}, "seconds": time.time() - t0}
        if args.phantom is not None:
            entry["phantom_test"] = phantom(args.phantom, anatomy)
        result["methods"][name] = entry
        print(name, json.dumps({k: entry[k] for k in ("sunnybrook", "acdc")}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()
