"""`pscgan experiment` and `pscgan cv` on the command line (tiny preset, one step per phase)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pscgan.cli.main import app


def test_experiment_runs_writes_tables_and_continues(tiny_ring_dataset, tmp_path):
    out = tmp_path / "eff"
    args = [
        "experiment",
        "efficiency",
        "--data",
        str(tiny_ring_dataset),
        "--out",
        str(out),
        "--preset",
        "tiny",
        "--budget-steps",
        "1",
        "--seeds",
        "1",
        "--variants",
        "factorised",
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "SCLN, factorised attention" in res.output and "complete for the chosen variants" in res.output
    assert (out / "factorised" / "seed0" / "done.json").is_file() and (out / "efficiency.md").is_file()
    plan = json.loads((out / "plan.json").read_text())
    assert plan["request"]["budget"] == {"kind": "steps", "value": 1}
    res = CliRunner().invoke(app, args[:-4] + ["--seeds", "2"])
    assert res.exit_code == 2 and "other arguments" in res.output


def test_cv_command(tiny_ring_dataset, tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "cv",
            "--data",
            str(tiny_ring_dataset),
            "--out",
            str(tmp_path / "cv"),
            "--folds",
            "2",
            "--preset",
            "tiny",
            "--budget-steps",
            "1",
            "--stop-after",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "not complete yet" in res.output and (tmp_path / "cv" / "cv_summary.md").is_file()


def test_bad_arguments_are_one_line_errors(tiny_ring_dataset, tmp_path):
    base = ["--data", str(tiny_ring_dataset), "--out", str(tmp_path / "x")]
    for args, message in (
        (["experiment", "table9", *base], "unknown experiment"),
        (["experiment", "table3", *base, "--variants", "full,nope"], "no variant nope"),
        (["experiment", "table3", *base, "--budget", "5", "--budget-steps", "3"], "not both"),
    ):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2 and message in res.output, res.output
        assert "Traceback" not in res.output
