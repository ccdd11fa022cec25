"""How much of the crop the phantom's heart fills: crop field of view / the largest ED LV diameter.

The field-of-view rule at prediction (``pscgan.inference.predictor.FOV_HEART_RANGE``) sizes the crop to
the heart with the phantom's own proportion, so that the cascade, trained on the phantom at its native
spacing, sees real hearts at the scale it learned. This measures that proportion over a phantom cohort
from its labels (the diameter as the pipeline computes it: equivalent diameter of blood pool +
myocardium, largest over the subject's slices).

Usage: python benchmarks/phantom_fov_ratio.py --data phantom --out benchmarks/results/phantom_fov_ratio.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    from pscgan.data.layout import list_subject_folders, load_subject
    from pscgan.preprocessing.localisation import centre_from_labels
    from pscgan.training.run_folder import portable_command

    ratios = []
    for folder in list_subject_folders(args.data):
        s = load_subject(folder, require_labels=True)
        spacing_rc = (float(s.cine.spacing[1]), float(s.cine.spacing[0]))
        sizes = [rec.size_mm for k in range(s.labels.array.shape[2])
                 if (rec := centre_from_labels(s.labels.array[:, :, k].T, spacing_rc)) is not None]
        crop_fov = s.cine.array.shape[1] * spacing_rc[0]
        ratios.append(crop_fov / max(sizes))
    r = np.array(ratios)
    result = {"benchmark": "phantom_fov_ratio", "command": portable_command(["python", *sys.argv]),
              "subjects": len(r), "median": float(np.median(r)), "p5": float(np.percentile(r, 5)),
              "p95": float(np.percentile(r, 95)), "min": float(r.min()), "max": float(r.max())}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
