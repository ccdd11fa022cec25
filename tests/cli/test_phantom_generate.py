"""``pscgan phantom generate``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.data.layout import list_subject_folders, load_subject, read_manifest


def test_generate_writes_the_canonical_layout(tmp_path: Path) -> None:
    out = tmp_path / "phantom"
    result = CliRunner().invoke(app, ["phantom", "generate", "--out", str(out), "-n", "2", "--slices", "1",
                                      "--workers", "1", "--seed", "4", "--no-cine-scar-contrast"])
    assert result.exit_code == 0, result.output
    manifest = read_manifest(out)
    assert manifest.subjects == ["phantom_0000", "phantom_0001"]
    assert manifest.provenance["options"]["cine_scar_contrast"] is False
    for folder in list_subject_folders(out):
        subject = load_subject(folder, require_lge=True, require_labels=True)
        assert subject.cine.array.shape == (64, 64, 1, 25) and subject.cine_labels is not None
        assert subject.info.phantom["params"]["contrast"]["cine_scar_contrast"] == 0.0


def test_generate_refuses_a_non_empty_folder_and_leaves_it_untouched(tmp_path: Path) -> None:
    (tmp_path / "results.csv").write_text("precious")
    (tmp_path / "sub").mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = CliRunner().invoke(app, ["phantom", "generate", "--out", str(tmp_path), "-n", "1",
                                      "--slices", "1", "--workers", "1"])
    assert result.exit_code == 2
    assert "overwrite" in " ".join(result.output.split())
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "results.csv").read_text() == "precious"


def test_generate_overwrite_replaces_the_folder(tmp_path: Path) -> None:
    args = ["phantom", "generate", "--out", str(tmp_path), "-n", "1", "--slices", "1", "--workers", "1"]
    assert CliRunner().invoke(app, args).exit_code == 0
    (tmp_path / "old.txt").write_text("x")
    result = CliRunner().invoke(app, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "old.txt").exists() and (tmp_path / "dataset.json").is_file()


def test_generate_overwrite_never_empties_a_folder_pscgan_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("x")
    result = CliRunner().invoke(app, ["phantom", "generate", "--out", str(tmp_path), "-n", "1",
                                      "--slices", "1", "--workers", "1", "--overwrite"])
    assert result.exit_code == 2 and "did not write" in " ".join(result.output.split())
    assert (tmp_path / "old.txt").read_text() == "x"
