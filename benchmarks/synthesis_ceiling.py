"""How close to the phantom's real LGE can any synthesiser that sees only the cine get?

The phantom's LGE holds per-subject randomness no model can infer from the cine: the noise realisation
(complex Gaussian per coil, Rician magnitude) and the cine-to-LGE misregistration (in-plane shift,
rotation, through-plane shift, radius scale). For every subject of a dataset split (the subjects
``pscgan predict DATA --split test`` predicts), this script re-renders the LGE from the parameters in
``subject.json`` with that randomness switched off (:mod:`pscgan.phantom.oracle`) and scores each such
"oracle" against the subject's real ``lge.nii.gz`` exactly as ``pscgan evaluate`` scores a synthetic LGE:
the reference is prepared as in :func:`pscgan.evaluation.pairing.pair_subject` (crop located from the
cine, per-slice percentile scaling to [-1, 1]), the oracle goes through the same preprocessing (the
same crop, its own percentile scaling, as the training targets do), and
:class:`pscgan.evaluation.synthesis.SynthesisMetrics` gives SSIM, PSNR and NRMSE per slice. Rows:

* ``noise_free``: the recorded parameters, LGE noise off;
* ``noise_free_registered``: also no misregistration (the LGE of the cine's end-diastolic geometry);
* ``noise_free_misregistration_mean``: the mean, on the network grid, of ``--draws`` noise-free renders
  each with a misregistration drawn from the phantom's priors: what a model that knew every contrast
  parameter but not the misregistration would draw to minimise the squared error, i.e. to maximise
  PSNR (estimated with finitely many draws, so slightly below that optimum); the registered render is
  one sharp guess and no bound on PSNR;
* ``label_painted``: each class of the label map painted with the real LGE's mean over that class in
  that slice, on the network grid (a perfect segmenter that knew the class means);
* ``model`` (with ``--predictions``): a ``pscgan predict`` folder, scored by ``pscgan evaluate``'s own
  code path.

Checks recorded in the result: re-rendering with the original parameters reproduces ``lge.nii.gz`` (and
the cine) bit for bit; the noise-free LGE does not change with the noise seed (the noise really is off)
while the cine stays bit-identical to the original; the oracles' crops are the reference's; the model's
references are the very arrays the oracles are scored against.

Command (the results in ``benchmarks/results/synthesis_ceiling.json`` came from it)::

    pscgan phantom generate --subjects 280 --seed 0 --out phantom
    pscgan predict phantom --split test --out pred-test
    python benchmarks/synthesis_ceiling.py --data phantom --predictions pred-test \\
        --out benchmarks/results/synthesis_ceiling.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from pscgan.config.presets import get_preset
from pscgan.data.layout import Subject, load_subject, read_manifest
from pscgan.evaluation.synthesis import SynthesisMetrics
from pscgan.phantom.oracle import (
    OracleKind,
    oracle_params,
    paint_class_means,
    prior_misregistrations,
    recorded_params,
    with_misregistration,
)
from pscgan.phantom.params import SubjectParams
from pscgan.phantom.render import render_subject
from pscgan.preprocessing.pipeline import PreprocessOptions, prepare_subject

ROWS = {
    "noise_free": "re-rendered from subject.json with the LGE noise off",
    "noise_free_registered": "noise off and no cine-to-LGE misregistration (shift 0, rotation 0, "
                             "through-plane 0, radius scale 1)",
    "noise_free_misregistration_mean": "mean of noise-free renders over misregistrations drawn from the "
                                      "phantom's priors (averaged after preprocessing)",
    "label_painted": "label map (cine ED geometry) painted with the real LGE's per-slice class means",
    "model": "the prediction folder's synthetic LGE",
}


def _portable(argv: list[str]) -> list[str]:
    """Arguments as a user would type them: folders by their last name only, the output as given
    when relative."""
    out = []
    for a in argv:
        p = Path(a)
        out.append(p.name if "/" in a and (p.is_absolute() or p.is_dir()) else a)
    return out


def _network_lge(subject: Subject, lge: np.ndarray, options: PreprocessOptions) -> tuple[np.ndarray, list]:
    """An LGE volume through the subject's preprocessing: (S, H, W) crops in [-1, 1], and the crop boxes."""
    prepared = prepare_subject(replace(subject, lge=replace(subject.lge, array=lge)), options)
    return np.stack([p.lge for p in prepared]), [p.record.crop for p in prepared]


def reproduction_checks(subject: Subject, params: SubjectParams, matrix: int) -> dict[str, Any]:
    """The original parameters reproduce the files; the noise-free render keeps the cine and does not
    depend on the noise seed (the noise really is off)."""
    original = render_subject(params, matrix=matrix)
    clean_params = oracle_params(params, OracleKind.NOISE_FREE)
    clean = render_subject(clean_params, matrix=matrix)
    reseeded = clean_params.model_copy(update={"acquisition": clean_params.acquisition.model_copy(
        update={"noise_seed": params.acquisition.noise_seed + 1})})
    return {"lge_reproduced": bool(np.array_equal(original.lge, subject.lge.array)),
            "lge_max_abs_difference": float(np.max(np.abs(original.lge - subject.lge.array))),
            "cine_reproduced": bool(np.array_equal(original.cine, subject.cine.array)),
            "noise_free_cine_unchanged": bool(np.array_equal(clean.cine, subject.cine.array)),
            "noise_free_independent_of_noise_seed": bool(np.array_equal(
                render_subject(reseeded, matrix=matrix).lge, clean.lge))}


def score_subject(job: tuple[str, int, int, int, list[int]]) -> dict[str, Any]:
    """Reference and oracle LGE crops of one subject, and the checks."""
    folder, frames, crop, draws, seed = Path(job[0]), *job[1:]
    options = PreprocessOptions(n_phases=frames, crop_size=crop, localisation="cine")
    subject = load_subject(folder, require_lge=True, require_labels=True)
    params, matrix = recorded_params(folder)
    checks = reproduction_checks(subject, params, matrix)
    reference = prepare_subject(subject, options)
    ref_lge, crops = np.stack([p.lge for p in reference]), [p.record.crop for p in reference]
    images = {}
    for kind in OracleKind:
        lge = render_subject(oracle_params(params, kind), matrix=matrix).lge
        images[kind.value], oracle_crops = _network_lge(subject, lge, options)
        checks[f"{kind.value}_crops_match"] = oracle_crops == crops
    clean = oracle_params(params, OracleKind.NOISE_FREE)
    drawn = [render_subject(with_misregistration(clean, m), matrix=matrix).lge
             for m in prior_misregistrations(draws, seed)]
    drawn = [_network_lge(subject, lge, options)[0] for lge in drawn]
    images["noise_free_misregistration_mean"] = np.mean(drawn, axis=0)
    images["label_painted"] = paint_class_means(ref_lge, np.stack([p.labels for p in reference]))
    return {"subject": folder.name, "reference": ref_lge, "images": images, "checks": checks}


def model_row(predictions: Path, data: Path, references: dict[str, np.ndarray]) -> dict[str, Any]:
    """``pscgan evaluate``'s synthesis metrics of a prediction folder, plus its provenance."""
    from pscgan.evaluation.cohort import imaging_metrics
    from pscgan.evaluation.evaluate import load_pairs
    from pscgan.inference.predictor import default_weights_path
    from pscgan.inference.weights import read_weights_metadata

    pairs = load_pairs(predictions, data)
    ids = sorted(p.subject_id for p in pairs)
    if ids != sorted(references):
        raise SystemExit(f"{predictions} predicts {len(ids)} subjects, the split has {len(references)}; "
                         "predict the same split first")
    same_refs = all(np.array_equal(p.lge_ref, references[p.subject_id]) for p in pairs)
    summary_file = predictions / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    weights_sha = summary.get("weights", {}).get("sha256")
    return {"synthesis": imaging_metrics(pairs)["synthesis"], "references_identical_to_oracles": same_refs,
            "weights": summary.get("weights"),
            "weights_are_bundled": weights_sha == read_weights_metadata(default_weights_path()).get("sha256")}


def summary_row(metrics: SynthesisMetrics | dict[str, Any], what: str) -> dict[str, Any]:
    agg = metrics.aggregate() if isinstance(metrics, SynthesisMetrics) else metrics
    return {"what": what, "n_slices": agg["n_samples"],
            **{name: agg[name].as_dict() for name in ("ssim", "psnr_db", "nrmse")}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="phantom dataset (pscgan phantom generate)")
    ap.add_argument("--split", default="test", help="split part of dataset.json to score (default: test)")
    ap.add_argument("--predictions", type=Path, default=None,
                    help="a `pscgan predict DATA --split SPLIT` folder to score beside the oracles")
    ap.add_argument("--draws", type=int, default=8, help="misregistrations averaged per subject")
    ap.add_argument("--seed", type=int, default=0, help="seeds the misregistration draws")
    ap.add_argument("--workers", type=int, default=1, help="processes rendering subjects in parallel")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    from pscgan.inference.inputs import discover_inputs

    model = get_preset("cpu").model
    folders = [item.path for item in discover_inputs(args.data, split=args.split)]
    jobs = [(str(f), model.frames, model.image_size, args.draws, [args.seed, i])
            for i, f in enumerate(folders)]
    start = time.perf_counter()
    load_start = os.getloadavg()[0]
    if args.workers > 1:
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            results = pool.map(score_subject, jobs)
    else:
        results = [score_subject(job) for job in jobs]
    metrics = {name: SynthesisMetrics() for name in ROWS if name != "model"}
    for r in results:
        ids = [f"{r['subject']}/{k}" for k in range(len(r["reference"]))]
        for name, m in metrics.items():
            m(r["images"][name], r["reference"], ids=ids)
    rows = {name: summary_row(m, ROWS[name]) for name, m in metrics.items()}
    record: dict[str, Any] = {"benchmark": "synthesis_ceiling"}
    if args.predictions is not None:
        found = model_row(args.predictions, args.data, {r["subject"]: r["reference"] for r in results})
        rows["model"] = summary_row(found.pop("synthesis"), ROWS["model"])
        record["model"] = found
    check_names = results[0]["checks"].keys()
    record.update({
        "command": " ".join(["python", "benchmarks/synthesis_ceiling.py", *_portable(sys.argv[1:])]),
        "dataset": {"name": read_manifest(args.data).name, "split": args.split, "subjects": len(results)},
        "misregistration_draws_per_subject": args.draws, "seed": args.seed,
        "preprocessing": {"frames": model.frames, "crop": model.image_size, "localisation": "cine",
                          "intensity_percentiles": list(PreprocessOptions().intensity_percentiles)},
        "checks": {name: (sum if isinstance(results[0]["checks"][name], bool) else max)(
            r["checks"][name] for r in results) for name in check_names},
        "rows": rows,
        "seconds": round(time.perf_counter() - start, 1),
        "load_average_at_start": load_start, "load_average_at_end": os.getloadavg()[0],
    })
    from pscgan.training.run_folder import environment_info

    env = environment_info(device="cpu")
    env["command"] = _portable(sys.argv)
    record["environment"] = env
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    for name, row in rows.items():
        print(f"{name:32s} n={row['n_slices']:4d}  " + "  ".join(
            f"{k} {row[k]['mean']:.3f} ({row[k]['sd']:.3f})" for k in ("ssim", "psnr_db", "nrmse")))
    print(json.dumps(record["checks"]))


if __name__ == "__main__":
    main()
