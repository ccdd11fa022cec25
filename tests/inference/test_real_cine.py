"""The default pipeline on a real cine: the LV is found and segmented; a slice without a heart is flagged.

Reads one real Sunnybrook subject beside the repository (``../shared/data/sunnybrook-dev``; skipped
without it). Quality floors, not timings: the full measurement is ``benchmarks/real_cine.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

SUBJECT = "SCD0000101_SC-HF-I-1"


@pytest.fixture(scope="module")
def predicted(sunnybrook_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(prediction folder, input folder) of the subject, its slice 4 replaced by frames without a heart."""
    from typer.testing import CliRunner

    from pscgan.cli.main import app

    root = tmp_path_factory.mktemp("real")
    data = root / "data"
    shutil.copytree(sunnybrook_dir / SUBJECT, data / SUBJECT)
    cine = nib.load(data / SUBJECT / "cine.nii.gz")
    arr = np.asarray(cine.dataobj).astype(np.float32)
    rng = np.random.default_rng(0)
    corner = arr[:48, :48, 4, :]  # a patch of chest wall and air, tiled over the slice: no heart
    tiled = np.tile(corner, (4, 4, 1))[:arr.shape[0], :arr.shape[1]]
    arr[:, :, 4, :] = tiled + rng.normal(0, 1, arr[:, :, 4].shape)
    nib.save(nib.Nifti1Image(arr, cine.affine, cine.header), data / SUBJECT / "cine.nii.gz")
    res = CliRunner().invoke(app, ["predict", str(data / SUBJECT), "--out", str(root / "pred")])
    assert res.exit_code == 0, res.output
    return root / "pred", data / SUBJECT


def test_the_lv_is_found_and_segmented_on_real_slices(predicted: tuple[Path, Path],
                                                      sunnybrook_dir: Path) -> None:
    import json

    pred, _ = predicted
    seg = np.asarray(nib.load(pred / SUBJECT / "segmentation.nii.gz").dataobj)
    ref_img = nib.load(sunnybrook_dir / SUBJECT / "labels.nii.gz")
    ref = np.asarray(ref_img.dataobj)
    spacing = float(ref_img.header.get_zooms()[0])
    found, dice_myo, dice_bp = [], [], []
    for k in range(ref.shape[2]):
        if k == 4 or not (ref[:, :, k] > 0).any():
            continue
        p, r = seg[:, :, k], ref[:, :, k]
        err = (np.hypot(*((np.argwhere(p > 0).mean(0) - np.argwhere(r > 0).mean(0)) * spacing))
               if (p > 0).any() else np.inf)
        found.append(err <= 10.0)
        a, b = np.isin(p, (2, 3)), r == 2
        dice_myo.append(2 * (a & b).sum() / (a.sum() + b.sum()))
        a, b = p == 1, r == 1
        dice_bp.append(2 * (a & b).sum() / (a.sum() + b.sum()))
    # measured 7 of 7 mid/basal slices found, myocardium Dice about 0.75, blood pool 0.93 (real_cine.json)
    assert np.mean(found) >= 0.85
    assert np.median(dice_myo) >= 0.65 and np.median(dice_bp) >= 0.85
    records = json.loads((pred / SUBJECT / "records.json").read_text())
    assert all(r["localisation"]["method"].startswith("detector") for r in records)
    # one field of view per subject (its native one here: the heart's proportion is within the range)
    assert len({None if r["inplane"] is None else tuple(r["inplane"]["spacing_mm"]) for r in records}) == 1


def test_a_slice_without_a_heart_is_flagged_and_not_reported_as_scar(predicted: tuple[Path, Path]) -> None:
    import json

    pred, _ = predicted
    summary = json.loads((pred / "summary.json").read_text())
    flagged = {(n["subject"], n["slice"]): n for n in summary["quality"]["not_assessed"]}
    assert (SUBJECT, 4) in flagged, summary["quality"]
    assert {"no_heart", "low_localisation_confidence"} & set(flagged[(SUBJECT, 4)]["flags"])
    clinical = json.loads((pred / SUBJECT / "clinical.json").read_text())
    (slice4,) = [s for s in clinical["slices"] if s["index"] == 4]
    assert slice4["quality"]["assessed"] is False
    assert slice4["quantities"]["scar_area_cm2"] is None and slice4["segments"] == []
