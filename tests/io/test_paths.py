"""Output locations: below a file, symbolic-link loops, read-only folders and inputs are refused in one
line."""

from __future__ import annotations

import os

import pytest

from pscgan.errors import OutputError
from pscgan.io.paths import check_not_input, check_output_file, make_folder

needs_permissions = pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                                       reason="root ignores file permissions")


def test_a_folder_below_a_regular_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        make_folder(tmp_path / "file" / "out")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_file(tmp_path / "file" / "out.json")


def test_a_symbolic_link_loop_is_refused(tmp_path):
    os.symlink(tmp_path / "a", tmp_path / "b")
    os.symlink(tmp_path / "b", tmp_path / "a")
    with pytest.raises(OutputError, match="symbolic-link loop"):
        make_folder(tmp_path / "a")
    with pytest.raises(OutputError, match="symbolic-link loop"):
        check_output_file(tmp_path / "a" / "x.json")


def test_a_file_output_naming_a_folder_is_refused(tmp_path):
    with pytest.raises(OutputError, match="is a folder"):
        check_output_file(tmp_path)


@needs_permissions
def test_read_only_folders_are_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        for call in (
            lambda: make_folder(ro),
            lambda: make_folder(ro / "out"),
            lambda: check_output_file(ro / "a"),
        ):
            with pytest.raises(OutputError, match="not writable"):
                call()
    finally:
        ro.chmod(0o755)


@pytest.mark.parametrize("out", [".", "..", "ds", "ds/sub/deeper"])
def test_an_output_that_is_holds_or_lies_in_an_input_is_refused(tmp_path, out):
    ds = tmp_path / "data" / "ds"
    (ds / "sub").mkdir(parents=True)
    with pytest.raises(OutputError, match="input"):
        check_not_input(tmp_path / "data" / "ds" / out if out != "ds" else ds, [ds])


def test_inputs_reached_through_a_symbolic_link_are_recognised(tmp_path):
    ds = tmp_path / "ds"
    ds.mkdir()
    os.symlink(ds, tmp_path / "alias")
    with pytest.raises(OutputError, match="is the input"):
        check_not_input(tmp_path / "alias", [ds])
    with pytest.raises(OutputError, match="holds the input"):
        check_not_input(tmp_path, [tmp_path / "alias"])


def test_a_folder_directly_in_a_prediction_folder_may_receive_outputs(tmp_path):
    pred = tmp_path / "pred"
    (pred / "s1").mkdir(parents=True)
    check_not_input(pred / "evaluation", [pred], may_hold_out=[pred])
    with pytest.raises(OutputError, match="inside the input"):
        check_not_input(pred / "s1" / "evaluation", [pred], may_hold_out=[pred])
    with pytest.raises(OutputError, match="is the input"):
        check_not_input(pred, [pred], may_hold_out=[pred])


def test_a_folder_the_user_may_not_write_is_refused_also_for_root(tmp_path, monkeypatch):
    # root passes every permission check, so the refusal is shown with os.access saying no
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(OutputError, match="not writable"):
        make_folder(tmp_path / "out")
    with pytest.raises(OutputError, match="not writable"):
        check_output_file(tmp_path / "out.json")
