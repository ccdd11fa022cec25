"""`pscgan demo` end to end with the bundled weights (small cohort)."""

from __future__ import annotations

from typer.testing import CliRunner

from pscgan.cli.main import app


def test_demo_writes_report_and_tables(tmp_path):
    out = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--out", str(out), "--subjects", "3"])
    assert res.exit_code == 0, res.output
    assert (out / "report" / "index.html").is_file()
    assert (out / "evaluation" / "table1.md").is_file()
    assert len(list((out / "report" / "subjects").glob("*.html"))) == 3
    res = CliRunner().invoke(app, ["demo", "--out", str(out), "--subjects", "3"])
    assert res.exit_code == 2 and "--overwrite" in res.output
