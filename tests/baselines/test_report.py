"""`pscgan report` on a baseline's prediction folder, which holds only the baseline's parts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize("kind", ["monai_unet", "pix2pix", "scar_unet3d"])
@pytest.mark.parametrize("with_reference", [False, True])
def test_report_draws_what_a_baseline_predicts(kind, with_reference, baseline_predictions, baseline_split,
                                               tiny_ring_dataset, tmp_path):
    """A baseline without a synthetic LGE (the U-Nets) or without a segmentation (pix2pix) gets a report
    (it once failed on the missing ``lge_synthetic`` array)."""
    pred = baseline_predictions[kind]
    args = ["report", str(pred), *([str(tiny_ring_dataset)] if with_reference else []),
            "--out", str(tmp_path / "r")]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    for sid in baseline_split["test"]:
        page = (tmp_path / "r" / "subjects" / f"{sid}.html").read_text()
        assert sid in page and "data:image/png;base64" in page
