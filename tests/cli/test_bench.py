from __future__ import annotations

import json

from typer.testing import CliRunner

from pscgan.cli.main import app

runner = CliRunner()


def test_bench_models_writes_json(tmp_path):
    out = tmp_path / "models_tiny.json"
    args = ["bench", "models", "--preset", "tiny", "--network", "discriminator", "--phase", "coarse",
            "--repeats", "1", "--threads", "1", "--matmul-size", "256", "--no-kernels", "--json", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "float32 matmul" in result.output and "discriminator" in result.output
    data = json.loads(out.read_text())
    (entry,) = data["entries"]
    assert entry["network"] == "discriminator" and entry["forward"]["flops"] > 0
    assert data["machine"]["torch"]
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_bench_models_params_table():
    result = runner.invoke(app, ["bench", "models", "--params", "--preset", "paper"])
    assert result.exit_code == 0
    assert "| generator | coarse | 228,838,575 |" in result.output


def test_bench_models_bad_options():
    result = runner.invoke(app, ["bench", "models", "--preset", "gpu"])
    assert result.exit_code == 2 and "unknown preset" in result.output
    result = runner.invoke(app, ["bench", "models", "--preset", "tiny", "--set", "model.attention=sparse"])
    assert result.exit_code == 2 and "attention" in result.output
    result = runner.invoke(app, ["bench", "models", "--preset", "tiny", "--network", "gan"])
    assert result.exit_code == 2 and "gan" in result.output


def test_bench_json_never_replaces_a_users_file_or_writes_into_a_folder(tmp_path) -> None:  # noqa: ANN001
    from typer.testing import CliRunner

    from pscgan.cli.main import app

    mine = tmp_path / "results.json"
    mine.write_text('{"my": "numbers"}')
    res = CliRunner().invoke(app, ["bench", "models", "--preset", "tiny", "--json", str(mine), "--overwrite"])
    assert res.exit_code == 2 and mine.read_text() == '{"my": "numbers"}'
    res = CliRunner().invoke(app, ["bench", "models", "--preset", "tiny", "--json", str(tmp_path),
                                    "--overwrite"])
    assert res.exit_code == 2 and "folder" in res.output
