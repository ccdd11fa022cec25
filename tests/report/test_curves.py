from __future__ import annotations

import json

import pytest

from pscgan.errors import InputError
from pscgan.report.curves import CURVE_METRICS, learning_curve, learning_curves_png


def write_metrics(run, records, tail=""):
    run.mkdir(parents=True, exist_ok=True)
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return run


def test_training_time_sums_each_log_lines_rate_over_the_steps_it_covers(tmp_path):
    run = write_metrics(tmp_path / "run", [
        {"step": 5, "phase": "coarse", "seconds_per_step": 2.0, "val_dice_scar": 0.1, "val_score": 0.9},
        {"step": 10, "phase": "coarse", "seconds_per_step": 1.0},
        {"step": 15, "phase": "synthesis", "seconds_per_step": 4.0, "val_ssim": 0.4},
        {"step": 15, "phase": "synthesis", "val_psnr_db": float("nan")},  # a second line for one step
    ], tail='{"step": 20, "seconds_per')  # cut short by a crash: dropped
    curve = learning_curve(run, "cascade")
    got = [(p.step, p.seconds, p.phase) for p in curve.points]
    assert got == [(5, 10.0, "coarse"), (15, 35.0, "synthesis")]
    assert curve.points[0].metrics == {"dice_scar": 0.1}  # the run's own selection score is left out
    assert curve.total_seconds == 35.0 and curve.total_steps == 15
    assert curve.as_dict()["points"][1] == {"step": 15, "training_seconds": 35.0, "phase": "synthesis",
                                            "ssim": 0.4}


def test_a_folder_without_metrics_or_with_a_broken_line_is_refused_by_name(tmp_path):
    with pytest.raises(InputError, match="no metrics.jsonl"):
        learning_curve(tmp_path, "empty")
    run = write_metrics(tmp_path / "bad", [{"step": 1}], tail="not json\n" + json.dumps({"step": 2}) + "\n")
    with pytest.raises(InputError, match="line 2 is not JSON"):
        learning_curve(run, "bad")
    run = write_metrics(tmp_path / "nostep", [{"step": "1"}])
    with pytest.raises(InputError, match="integer 'step'"):
        learning_curve(run, "nostep")


def test_curves_of_a_real_cascade_and_baseline_run(tiny_ring_dataset, tmp_path):
    """The readers agree with what the trainers write: a tiny cascade and a tiny MONAI U-Net."""
    from pscgan.baselines import train_baseline
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.data.layout import read_manifest
    from pscgan.training.launch import TrainOptions, run_training

    cfg = apply_overrides(get_preset("tiny"), ["train.steps_per_phase=2", "train.validation_interval=1"])
    run_training(TrainOptions(run=tmp_path / "cascade", data=tiny_ring_dataset, config=cfg, progress=False))
    train = sorted(read_manifest(tiny_ring_dataset).split["train"])
    train_baseline("monai_unet", tiny_ring_dataset, tmp_path / "unet", steps=2, seed=0, device="cpu",
                   split={"train": train[1:], "validation": train[:1]}, preset="tiny")
    cascade = learning_curve(tmp_path / "cascade", "PSCGAN")
    unet = learning_curve(tmp_path / "unet", "U-Net")
    assert [p.phase for p in cascade.points] == ["coarse", "coarse", "synthesis", "synthesis",
                                                 "segmentation", "segmentation"]
    assert "ssim" in cascade.points[2].metrics and "dice_scar" in cascade.points[-1].metrics
    assert [p.step for p in unet.points] == [1, 2] and "dice_overall" in unet.points[0].metrics
    times = [p.seconds for p in cascade.points]
    assert times == sorted(times) and times[0] > 0 and cascade.total_seconds == times[-1]
    png = learning_curves_png([unet, cascade], "tiny runs")
    assert png[:4] == b"\x89PNG"


def test_figure_has_one_panel_per_metric_and_one_line_per_run_and_phase(tmp_path):
    import io

    from PIL import Image

    run = write_metrics(tmp_path / "run", [
        {"step": 1, "phase": "coarse", "seconds_per_step": 1.0, "val_dice_scar": 0.1,
         "val_dice_overall": 0.5},
        {"step": 2, "phase": "segmentation", "seconds_per_step": 1.0, "val_dice_scar": 0.2},
    ])
    png = learning_curves_png([learning_curve(run, "a")])
    width, height = Image.open(io.BytesIO(png)).size
    assert width > 2.5 * height  # one row of len(CURVE_METRICS) panels
    assert len(CURVE_METRICS) == 3


def test_a_curve_rescaled_to_a_time_alone_keeps_its_shape(tmp_path):
    run = write_metrics(tmp_path / "run", [
        {"step": 10, "seconds_per_step": 3.0, "val_dice_scar": 0.1},
        {"step": 30, "seconds_per_step": 1.5, "val_dice_scar": 0.2},
    ])
    curve = learning_curve(run, "shared")  # validations at 30 s and 60 s of training
    alone = curve.rescaled(0.5)  # the whole run in 30 s
    assert alone.total_seconds == pytest.approx(30.0) and alone.total_steps == curve.total_steps
    assert [p.seconds for p in alone.points] == pytest.approx([15.0, 30.0])
    assert [p.metrics for p in alone.points] == [p.metrics for p in curve.points]
    with pytest.raises(ValueError, match="cannot scale"):
        curve.rescaled(0)
