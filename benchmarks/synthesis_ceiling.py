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

With ``--register-lge`` every row is scored against the *registered* reference, the paper's protocol
(section 6.1) and what ``pscgan evaluate --register-lge`` scores against: the real LGE rigidly registered
to the cine end-diastolic frame (:mod:`pscgan.evaluation.reference`; the phantom's labels are in the
cine's geometry and stay). The oracles and the model stand for a synthesiser's output and are not
registered; one more row is:

* ``noise_free_lge_registered``: the ``noise_free`` render registered to the cine as the reference is
  (its own registration): the registered reference without its noise.

The record then also holds the reference registration's outcomes and its error against the phantom's
known in-plane misregistration (the phantom moves the LGE's heart by ``misregistration_mm`` = (right, up)
mm and rotates it by ``misregistration_deg``; registration should move it back by (up, -right) mm in
(row, col) and by the opposite angle); through-plane shift and radius scale are beyond a rigid in-plane
registration.

Checks recorded in the result: re-rendering with the original parameters reproduces ``lge.nii.gz`` (and
the cine) bit for bit; the noise-free LGE does not change with the noise seed (the noise really is off)
while the cine stays bit-identical to the original; the oracles' crops are the reference's; the model's
references are the very arrays the oracles are scored against.

Commands (the results in ``benchmarks/results/synthesis_ceiling.json`` and
``synthesis_ceiling_registered.json`` came from them)::

    pscgan phantom generate --subjects 280 --seed 0 --out phantom
    pscgan predict phantom --split test --no-anatomy --out pred-test   # the cascade alone, as published
    python benchmarks/synthesis_ceiling.py --data phantom --predictions pred-test \\
        --out benchmarks/results/synthesis_ceiling.json
    python benchmarks/synthesis_ceiling.py --data phantom --predictions pred-test --register-lge \\
        --out benchmarks/results/synthesis_ceiling_registered.json
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
from pscgan.data.layout import Subject, dataset_labels_geometry, load_subject, read_manifest
from pscgan.data.protocol import preprocess_options
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
    "noise_free_lge_registered": "the noise_free render registered to the cine as the reference is "
                                 "(--register-lge only)",
    "model": "the prediction folder's synthetic LGE",
}
#: Rows scored only against the registered reference.
REGISTERED_ONLY = ("noise_free_lge_registered",)


def portable(argv: list[str]) -> list[str]:
    """Arguments as a user would type them: folders by their last name only, the output as given
    when relative."""
    out = []
    for a in argv:
        p = Path(a)
        out.append(p.name if "/" in a and (p.is_absolute() or p.is_dir()) else a)
    return out


def write_record(record: dict[str, Any], out: Path) -> None:
    """Add the environment and the portable command line to ``record`` and write it to ``out``
    atomically (an interrupted run leaves the previous results file, not half of a new one)."""
    from pscgan.io.atomic import write_json_atomic
    from pscgan.training.run_folder import environment_info

    env = environment_info(device="cpu")
    env["command"] = portable(sys.argv)
    record["environment"] = env
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, record)


def _network_lge(subject: Subject, lge: np.ndarray, options: PreprocessOptions) -> tuple[np.ndarray, list]:
    """An LGE volume through the subject's preprocessing: (S, H, W) crops in [-1, 1], and the crop boxes."""
    prepared = prepare_subject(replace(subject, lge=replace(subject.lge, array=lge)), options)
    return np.stack([p.lge for p in prepared]), [p.record.crop for p in prepared]


def registration_errors(reference: list, params: SubjectParams) -> list[dict[str, Any]]:
    """Per slice: the reference registration's outcome, and its error against the phantom's known in-plane
    misregistration (see the module docstring for the conventions)."""
    right, up = params.acquisition.misregistration_mm
    expected_rc = np.array([up, -right])  # rows grow downwards
    expected_deg = -params.acquisition.misregistration_deg
    out = []
    for p in reference:
        rec = p.record.registration
        out.append({"outcome": rec.outcome.value, "true_shift_mm": float(np.hypot(*expected_rc)),
                    "shift_error_mm": float(np.hypot(*(np.asarray(rec.shift_mm) - expected_rc))),
                    "rotation_error_deg": abs(rec.rotation_deg - expected_deg)})
    return out


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


def score_subject(job: tuple[str, int, int, int, list[int], bool]) -> dict[str, Any]:
    """Reference and oracle LGE crops of one subject, and the checks."""
    folder, frames, crop, draws, seed, register = Path(job[0]), *job[1:]
    # oracles stand for a synthesiser's output (the cine's geometry): never registered
    options = PreprocessOptions(n_phases=frames, crop_size=crop, localisation="cine")
    # the reference as `pscgan evaluate` prepares it (the dataset is the subject folder's parent)
    ref_options = preprocess_options(folder.parent, register_lge=register, n_phases=frames, crop_size=crop,
                                     localisation="cine")
    subject = load_subject(folder, require_lge=True, require_labels=True)
    params, matrix = recorded_params(folder)
    checks = reproduction_checks(subject, params, matrix)
    reference = prepare_subject(subject, ref_options)
    ref_lge, crops = np.stack([p.lge for p in reference]), [p.record.crop for p in reference]
    images = {}
    for kind in OracleKind:
        lge = render_subject(oracle_params(params, kind), matrix=matrix).lge
        images[kind.value], oracle_crops = _network_lge(subject, lge, options)
        checks[f"{kind.value}_crops_match"] = oracle_crops == crops
        if register and kind is OracleKind.NOISE_FREE:
            images["noise_free_lge_registered"], _ = _network_lge(subject, lge, ref_options)
    clean = oracle_params(params, OracleKind.NOISE_FREE)
    drawn = [render_subject(with_misregistration(clean, m), matrix=matrix).lge
             for m in prior_misregistrations(draws, seed)]
    drawn = [_network_lge(subject, lge, options)[0] for lge in drawn]
    images["noise_free_misregistration_mean"] = np.mean(drawn, axis=0)
    images["label_painted"] = paint_class_means(ref_lge, np.stack([p.labels for p in reference]))
    return {"subject": folder.name, "reference": ref_lge, "images": images, "checks": checks,
            "registration": registration_errors(reference, params) if register else []}


def registration_record(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Outcomes of the reference registration and its errors against the known misregistration."""
    rows = [r for res in results for r in res["registration"]]
    applied = [r for r in rows if r["outcome"] == "applied"]

    def spread(key: str, among: list[dict[str, Any]]) -> dict[str, float | None]:
        values = np.array([r[key] for r in among])
        if not len(values):
            return {"median": None, "p90": None, "mean": None}
        return {"median": float(np.median(values)), "p90": float(np.percentile(values, 90)),
                "mean": float(values.mean())}

    return {
        "n_slices": len(rows),
        "outcomes": {k: sum(r["outcome"] == k for r in rows) for k in sorted({r["outcome"] for r in rows})},
        "true_in_plane_shift_mm": spread("true_shift_mm", rows),
        "applied_shift_error_mm": spread("shift_error_mm", applied),
        "applied_rotation_error_deg": spread("rotation_error_deg", applied),
    }


def model_row(
    predictions: Path, data: Path, references: dict[str, np.ndarray], register: bool
) -> dict[str, Any]:
    """``pscgan evaluate``'s synthesis metrics of a prediction folder, plus its provenance."""
    from pscgan.evaluation.cohort import imaging_metrics
    from pscgan.evaluation.evaluate import load_pairs
    from pscgan.evaluation.reference import reference_protocol
    from pscgan.inference.predictor import default_weights_path
    from pscgan.models.weights import read_weights_metadata

    protocol = reference_protocol(predictions, data, register_lge=register)
    pairs = load_pairs(predictions, data, protocol)
    ids = sorted(p.subject_id for p in pairs)
    if ids != sorted(references):
        raise SystemExit(f"{predictions} predicts {len(ids)} subjects, the split has {len(references)}; "
                         "predict the same split first")
    same_refs = all(np.array_equal(p.lge_ref, references[p.subject_id]) for p in pairs)
    summary_file = predictions / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    weights_sha = summary.get("weights", {}).get("sha256")
    return {"synthesis": imaging_metrics(pairs)["synthesis"], "references_identical_to_oracles": same_refs,
            "reference": protocol.as_dict(), "weights": summary.get("weights"),
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
    ap.add_argument("--register-lge", action="store_true",
                    help="score against the reference LGE registered to the cine end-diastolic frame "
                         "(the paper's protocol; pscgan evaluate --register-lge)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    from pscgan.inference.inputs import discover_inputs

    model = get_preset("cpu").model
    folders = [item.path for item in discover_inputs(args.data, split=args.split)]
    jobs = [(str(f), model.frames, model.image_size, args.draws, [args.seed, i], args.register_lge)
            for i, f in enumerate(folders)]
    start = time.perf_counter()
    load_start = os.getloadavg()[0]
    if args.workers > 1:
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            results = pool.map(score_subject, jobs)
    else:
        results = [score_subject(job) for job in jobs]
    metrics = {name: SynthesisMetrics() for name in ROWS
               if name != "model" and (args.register_lge or name not in REGISTERED_ONLY)}
    for r in results:
        ids = [f"{r['subject']}/{k}" for k in range(len(r["reference"]))]
        for name, m in metrics.items():
            m(r["images"][name], r["reference"], ids=ids)
    rows = {name: summary_row(m, ROWS[name]) for name, m in metrics.items()}
    record: dict[str, Any] = {"benchmark": "synthesis_ceiling"}
    if args.predictions is not None:
        found = model_row(args.predictions, args.data, {r["subject"]: r["reference"] for r in results},
                          args.register_lge)
        rows["model"] = summary_row(found.pop("synthesis"), ROWS["model"])
        record["model"] = found
    check_names = results[0]["checks"].keys()
    record.update({
        "command": " ".join(["python", "benchmarks/synthesis_ceiling.py", *portable(sys.argv[1:])]),
        "dataset": {"name": read_manifest(args.data).name, "split": args.split, "subjects": len(results)},
        "misregistration_draws_per_subject": args.draws, "seed": args.seed,
        "preprocessing": {"frames": model.frames, "crop": model.image_size, "localisation": "cine",
                          "intensity_percentiles": list(PreprocessOptions().intensity_percentiles),
                          "reference_registered": args.register_lge,
                          "labels_geometry": dataset_labels_geometry(args.data).value},
        "checks": {name: (sum if isinstance(results[0]["checks"][name], bool) else max)(
            r["checks"][name] for r in results) for name in check_names},
        **({"reference_registration": registration_record(results)} if args.register_lge else {}),
        "rows": rows,
        "seconds": round(time.perf_counter() - start, 1),
        "load_average_at_start": load_start, "load_average_at_end": os.getloadavg()[0],
    })
    write_record(record, args.out)
    for name, row in rows.items():
        print(f"{name:32s} n={row['n_slices']:4d}  " + "  ".join(
            f"{k} {row[k]['mean']:.3f} ({row[k]['sd']:.3f})" for k in ("ssim", "psnr_db", "nrmse")))
    print(json.dumps(record["checks"]))
    if args.register_lge:
        print(json.dumps(record["reference_registration"]))


if __name__ == "__main__":
    main()
