"""How well can any segmenter that sees only the cine find the phantom's scar?

The phantom puts scar into the cine through the wall's motion (spec section 2,
:mod:`pscgan.phantom.scar`): each ray's transmural extent ``TEI`` sets its motion amplitude ``a`` through
a piecewise-linear table that the subject shifts a little (``motion_offset``, U(-0.05, 0.05)) and whose
remote end it sets (``remote_hyperkinesis``, U(1.0, 1.15)); a wrapped Gaussian (sigma 8-15 degrees)
smooths ``a`` across the border zone. For every subject of a dataset split (the subjects
``pscgan predict DATA --split test`` predicts), this script paints "oracle" segmentations from the
recorded parameters (:mod:`pscgan.phantom.scar_oracle`), writes each as a prediction folder in the layout
``pscgan predict`` writes (segmentation only: ``parts.json`` declares no synthetic LGE; the crop located
from the cine as ``pscgan predict`` locates it) and scores it with ``pscgan evaluate``'s own code
(:func:`pscgan.evaluation.evaluate.evaluate`), so that every figure reads like the bundled model's in
``docs/model-card.md``. Every oracle draws the *true* blood pool and myocardium (the ED label map's own
geometry, through the phantom's rasteriser); only the scar differs. Rows:

* ``truth``: the recorded transmurality, painted again (reproduces ``labels.nii.gz`` exactly, which the
  script checks): the check that the painting and the scoring lose nothing (scar Dice 1).
* ``motion``: scar read from each ray's exact smoothed motion amplitude through the subject's own
  table. It knows more than the cine shows (``a`` itself, noise-free, on 2048 rays, and the subject's
  table), so no reading of the wall motion can find more scar than the painting of what that motion
  implies; what it misses is what the motion does not encode: where the border-zone smoothing has
  spread a narrow or tapering scar's motion deficit, and scar shallower than the motion deficit shows.
* ``motion_prior``: the same amplitude read through a table the priors give (offset 0, the prior's mean;
  remote amplitude 1.0, the prior's lowest, so that a normally moving wall never reads as scar): the
  per-subject table is the phantom's randomness in the TEI-to-motion mapping (the spec's bands for
  ``a`` per TEI band), which nothing in the cine reveals. **The ceiling quoted in the docs.**
* ``motion_measured``: the amplitude measured, not known: the cavity's area per 10-degree sector at ED
  and ES from the cine's written-grid blood-pool area fractions (a perfect, noise-free endocardial
  tracker on the cine's own pixels), turned into ``a`` with the subject's true global motion, read
  through the subject's own table. It shows what the pixel size and slice thickness cost.
* ``model`` (with ``--predictions``): a ``pscgan predict`` folder, scored by ``pscgan evaluate`` as is
  (its recorded LGE protocol); the fraction of each oracle's scar Dice it reaches is recorded.

Why these are ceilings, and where the argument stops. A model that sees only the cine sees the motion
through noisy pixels; the ``motion`` oracle sees the motion's cause-free amplitude exactly, and
``motion_prior`` differs from it only by what the cine cannot know. The bound is the plug-in reading
of each ray, not a proven optimum: a model that learned the phantom's prior over infarct shapes (tapered
cosine profiles, 40-150 degrees wide) could partly undo the border-zone smoothing, and the cine carries
two cues these oracles ignore: the scar's cine contrast (U(-0.08, +0.02) relative to myocardium; 0 when
the cohort switches it off) and its end-diastolic thinning (``T (1 - 0.5 TEI u)``). A model using those
could beat the motion ceiling on some subjects; the ``truth`` row's Dice 1 is the only hard bound.
The blood-pool/myocardium contrast in the cine (ratio 2.5-4 at a myocardial SNR of 15-40) makes the
image noise small against the pixel size for the endocardial boundary, which ``motion_measured`` tracks
without noise.

Checks recorded in the result: ``truth`` reproduces every ``labels.nii.gz`` bit for bit; the oracles'
network crops are those of the model's prediction folder (same records), when one is given.

Commands (the results in ``benchmarks/results/scar_ceiling.json`` came from them)::

    pscgan phantom generate --subjects 280 --seed 0 --out phantom
    pscgan predict phantom --split test --no-anatomy --out pred-test
    python benchmarks/scar_ceiling.py --data phantom --predictions pred-test \\
        --out benchmarks/results/scar_ceiling.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from pscgan.config.presets import get_preset
from pscgan.evaluation.parts import DefinedParts
from pscgan.phantom.scar_oracle import OracleScar
from synthesis_ceiling import portable, write_record

ROWS = {
    "truth": "the recorded transmurality painted again (check: Dice 1)",
    "motion": "exact smoothed motion amplitude per ray, read through the subject's own TEI-to-motion table",
    "motion_prior": "exact smoothed motion amplitude per ray, read through the priors' table "
                    "(offset 0, remote 1.0; the ceiling)",
    "motion_measured": "motion amplitude measured per 10-degree sector from the cine's written-grid "
                       "blood-pool fractions at ED and ES, read through the subject's own table",
    "model": "the prediction folder (pscgan evaluate as is)",
}
#: Where the ceiling quoted in the docs comes from.
CEILING = OracleScar.MOTION_PRIOR.value
TISSUES = ("scar", "healthy_myocardium", "lv_blood_pool")


def paint_subject(job: tuple[str, str, int, int]) -> dict[str, Any]:
    """Write every oracle's prediction of one subject into ``WORK/<oracle>/<subject>``; return checks."""
    from pscgan.baselines.outputs import write_baseline_subject
    from pscgan.baselines.predict import prepare_input
    from pscgan.inference.inputs import discover_inputs, load_input
    from pscgan.phantom.oracle import recorded_params
    from pscgan.phantom.scar_oracle import oracle_tei, scar_labels
    from pscgan.preprocessing.pipeline import PreprocessOptions, prepare_arrays

    folder, work, frames, crop = Path(job[0]), Path(job[1]), job[2], job[3]
    item = discover_inputs(folder)[0]
    loaded = load_input(item)
    options = PreprocessOptions(n_phases=frames, crop_size=crop, localisation="cine")
    slices = prepare_input(loaded, options)
    records = [s.record for s in slices]
    params, matrix = recorded_params(folder)
    checks: dict[str, Any] = {}
    for kind in OracleScar:
        labels = scar_labels(params, oracle_tei(params, kind), matrix=matrix)
        if kind is OracleScar.TRUTH:
            checks["truth_reproduces_labels"] = bool(np.array_equal(labels, loaded.labels.array))
        volume = replace(loaded.labels, array=labels)
        painted = prepare_arrays(loaded.cine, None, volume, options, subject_id=item.name, geometry=records)
        parts = DefinedParts(producer=f"scar_ceiling_{kind.value}", synthetic_lge=False)
        write_baseline_subject(work / kind.value, loaded, slices,
                               {"labels": np.stack([s.labels for s in painted])}, parts)
    return {"subject": item.name, "checks": checks, "records": [r.model_dump(mode="json") for r in records]}


def _summary(s: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if s is None else {k: s[k] for k in ("mean", "sd", "median", "n") if k in s}


def scores(result: dict[str, Any]) -> dict[str, Any]:
    """The figures of ``docs/model-card.md`` from an :func:`~pscgan.evaluation.evaluate.evaluate` result
    (read from its JSON form, as ``evaluation.json`` holds it)."""
    from pscgan.evaluation.evaluate import jsonable

    seg = jsonable(result["imaging"])["segmentation"]
    clinical = jsonable(result["clinical"])
    metrics = ("dice", "sensitivity", "specificity", "accuracy", "hd95_mm")
    out: dict[str, Any] = {
        "overall": {m: _summary(seg["overall"].get(m)) for m in metrics},
        **{t: {m: _summary(seg["per_class"][t].get(m)) for m in metrics} for t in TISSUES},
    }
    for name in ("segment_localisation", "transmurality"):
        c = clinical.get(name) or {}
        keys = ("sensitivity", "specificity", "ppv", "auc", "tp", "fp", "tn", "fn")
        out[name] = {k: c.get(k) for k in keys}
    for name in ("scar_ratio", "scar_size_slice_cm2", "scar_volume_ml"):
        c = clinical.get(name) or {}
        out[name] = {"pearson_r": (c.get("pearson") or {}).get("r"), "n": (c.get("pearson") or {}).get("n"),
                     "bias": (c.get("bland_altman") or {}).get("bias"),
                     "pred_mean": c.get("pred_mean"), "ref_mean": c.get("ref_mean")}
    out["n_slices_not_assessed"] = clinical.get("n_slices_not_assessed")
    return out


def model_provenance(predictions: Path) -> dict[str, Any]:
    """The prediction folder's weights and whether they are the bundled ones."""
    from pscgan.inference.predictor import default_weights_path
    from pscgan.models.weights import read_weights_metadata

    summary_file = predictions / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    weights = summary.get("weights") or {}
    bundled = read_weights_metadata(default_weights_path()).get("sha256")
    return {"weights": weights, "weights_are_bundled": weights.get("sha256") == bundled}


def same_crops(predictions: Path, painted: list[dict[str, Any]]) -> int:
    """How many subjects' oracle crops (records) equal the prediction folder's."""
    from pscgan.inference.outputs import RECORDS_FILE

    return sum(json.loads((predictions / p["subject"] / RECORDS_FILE).read_text()) == p["records"]
               for p in painted if (predictions / p["subject"] / RECORDS_FILE).is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="phantom dataset (pscgan phantom generate)")
    ap.add_argument("--split", default="test", help="split part of dataset.json to score (default: test)")
    ap.add_argument("--predictions", type=Path, default=None,
                    help="a `pscgan predict DATA --split SPLIT` folder to score beside the oracles")
    ap.add_argument("--work", type=Path, default=None,
                    help="where the oracles' prediction folders go (default: a temporary folder, removed)")
    ap.add_argument("--workers", type=int, default=1, help="processes painting subjects in parallel")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    from pscgan.data.layout import read_manifest
    from pscgan.evaluation.evaluate import evaluate
    from pscgan.inference.inputs import discover_inputs

    model = get_preset("cpu").model
    folders = [item.path for item in discover_inputs(args.data, split=args.split)]
    work = args.work or Path(tempfile.mkdtemp(prefix="scar-ceiling-"))
    for kind in OracleScar:
        (work / kind.value).mkdir(parents=True, exist_ok=False)
    jobs = [(str(f), str(work), model.frames, model.image_size) for f in folders]
    start = time.perf_counter()
    load_start = os.getloadavg()[0]
    if args.workers > 1:
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            painted = pool.map(paint_subject, jobs)
    else:
        painted = [paint_subject(job) for job in jobs]
    painting_seconds = time.perf_counter() - start
    rows: dict[str, Any] = {}
    for kind in OracleScar:
        # no synthetic LGE to score and labels in the cine's geometry: the reference's registration
        # changes nothing here, so it is skipped
        result = evaluate(work / kind.value, args.data, work / kind.value / "evaluation", register_lge=False)
        rows[kind.value] = {"what": ROWS[kind.value], **scores(result)}
    record: dict[str, Any] = {"benchmark": "scar_ceiling", "ceiling_row": CEILING}
    checks = {"truth_reproduces_labels": sum(p["checks"]["truth_reproduces_labels"] for p in painted),
              "subjects": len(painted)}
    if args.predictions is not None:
        result = evaluate(args.predictions, args.data, work / "model-evaluation")
        rows["model"] = {"what": ROWS["model"], **scores(result)}
        checks["model_crops_equal_oracle_crops"] = same_crops(args.predictions, painted)
        model_dice = rows["model"]["scar"]["dice"]["mean"]
        record["model"] = {**model_provenance(args.predictions),
                           "reference_lge_registered": bool(result["protocol"].register_lge),
                           "scar_dice_fraction_of": {k: model_dice / rows[k]["scar"]["dice"]["mean"]
                                                     for k in ROWS if k not in ("model", "truth")}}
    record.update({
        "command": " ".join(["python", "benchmarks/scar_ceiling.py", *portable(sys.argv[1:])]),
        "dataset": {"name": read_manifest(args.data).name, "split": args.split, "subjects": len(painted)},
        "preprocessing": {"frames": model.frames, "crop": model.image_size, "localisation": "cine"},
        "checks": checks, "rows": rows,
        "painting_seconds": round(painting_seconds, 1), "seconds": round(time.perf_counter() - start, 1),
        "load_average_at_start": load_start, "load_average_at_end": os.getloadavg()[0],
    })
    write_record(record, args.out)
    if args.work is None:
        shutil.rmtree(work)
    for name, row in rows.items():
        print(f"{name:16s} scar Dice {row['scar']['dice']['mean']:.3f} ({row['scar']['dice']['sd']:.3f})  "
              f"overall {row['overall']['dice']['mean']:.3f}  localisation sens/spec "
              f"{row['segment_localisation']['sensitivity']}/{row['segment_localisation']['specificity']}  "
              f"scar ratio r {row['scar_ratio']['pearson_r']}")
    print(json.dumps(record["checks"]))
    if "model" in record:
        print(json.dumps(record["model"]["scar_dice_fraction_of"]))


if __name__ == "__main__":
    main()
