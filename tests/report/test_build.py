"""`pscgan report` from real prediction folders of the tiny model."""

from __future__ import annotations

from typer.testing import CliRunner

from pscgan.cli.main import app

runner = CliRunner()


def test_report_with_and_without_reference(tiny_ring_dataset, tiny_weights, tmp_path):
    pred = tmp_path / "pred"
    assert (
        runner.invoke(
            app,
            [
                "predict",
                str(tiny_ring_dataset / "ring_00"),
                str(tiny_ring_dataset / "ring_05"),
                "--weights",
                str(tiny_weights),
                "--out",
                str(pred),
            ],
        ).exit_code
        == 0
    )
    res = runner.invoke(app, ["report", str(pred), "--out", str(tmp_path / "r1")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r1" / "index.html").is_file()
    page = (tmp_path / "r1" / "subjects" / "ring_00.html").read_text()
    assert "ring_00" in page and "data:image/png;base64" in page
    ref_dir = tmp_path / "ref"
    import shutil

    ref_dir.mkdir()
    for sid in ("ring_00", "ring_05"):
        shutil.copytree(tiny_ring_dataset / sid, ref_dir / sid)
    res = runner.invoke(app, ["report", str(pred), str(ref_dir), "--out", str(tmp_path / "r2")])
    assert res.exit_code == 0, res.output
    index = (tmp_path / "r2" / "index.html").read_text()
    assert "subjects/ring_05.html" in index and "Agreement with the reference" in index
    # a plot, or the sentence saying why there is none (the tiny model's scar may be defined in one subject)
    assert "Bland-Altman plots of scar volume" in index or "No plot of scar volume" in index
    assert runner.invoke(app, ["report", str(pred), "--out", str(tmp_path / "r2")]).exit_code == 2
