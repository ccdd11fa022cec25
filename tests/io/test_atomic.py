from __future__ import annotations

import pytest

from pscgan.errors import OutputExistsError
from pscgan.io.atomic import (
    OUTPUT_MARKER,
    TEMP_MARK,
    atomic_path,
    prepare_output_dir,
    resume_output_dir,
    safe_child,
    write_json_atomic,
)


def test_atomic_path_leaves_target_untouched_on_error(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half-writ")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_atomic_path_keeps_suffixes_for_format_detection(tmp_path):
    with atomic_path(tmp_path / "img.nii.gz") as tmp:
        assert tmp.name.endswith(".nii.gz")
        tmp.write_bytes(b"x")
    assert (tmp_path / "img.nii.gz").read_bytes() == b"x"


def test_write_json_refuses_nan(tmp_path):
    with pytest.raises(ValueError):
        write_json_atomic(tmp_path / "a.json", {"x": float("nan")})
    assert not (tmp_path / "a.json").exists()


def test_prepare_output_dir_guards_existing_data(tmp_path):
    out = tmp_path / "out"
    prepare_output_dir(out)
    (out / "keep.txt").write_text("precious")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        prepare_output_dir(out)
    assert (out / "keep.txt").read_text() == "precious"
    prepare_output_dir(out, overwrite=True)
    assert [p.name for p in out.iterdir()] == [OUTPUT_MARKER]


def test_overwrite_never_empties_a_folder_pscgan_did_not_write(tmp_path):
    own = tmp_path / "thesis"
    own.mkdir()
    (own / "chapter1.tex").write_text("precious")
    with pytest.raises(OutputExistsError, match="did not write"):
        prepare_output_dir(own, overwrite=True)
    assert [p.name for p in own.iterdir()] == ["chapter1.tex"]


def test_resume_refuses_a_folder_pscgan_did_not_write(tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    (own / ".x.tmp").write_text("mine")
    with pytest.raises(OutputExistsError, match="did not write"):
        resume_output_dir(own)
    assert [p.name for p in own.iterdir()] == [".x.tmp"]
    assert resume_output_dir(tmp_path / "new").is_dir()


def test_temporaries_carry_the_pscgan_mark(tmp_path):
    with atomic_path(tmp_path / "a.json") as tmp:
        assert TEMP_MARK in tmp.name
        tmp.write_text("{}")


def test_prepare_output_dir_refuses_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputExistsError, match="not a folder"):
        prepare_output_dir(f, overwrite=True)


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "a/b", "..", "", "~root", "a\\b"])
def test_safe_child_refuses_escaping_names(tmp_path, name):
    with pytest.raises(ValueError):
        safe_child(tmp_path, name)


def test_safe_child_accepts_plain_names(tmp_path):
    assert safe_child(tmp_path, "subject_001") == tmp_path / "subject_001"
