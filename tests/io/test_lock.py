"""The output-folder lock: one writer at a time, stale locks of dead processes taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from pscgan.io.lock import LOCK_FILE, LockedError, output_lock

HOLD = textwrap.dedent("""
    import sys, time
    from pscgan.io.lock import output_lock
    with output_lock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(60)
""")


def _holder(folder):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ})
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_creates_the_folder_and_removes_its_file(tmp_path):
    out = tmp_path / "a" / "out"
    with output_lock(out):
        record = json.loads((out / LOCK_FILE).read_text())
        assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
    assert out.is_dir() and not (out / LOCK_FILE).exists()


def test_a_second_writer_is_refused_with_the_holder_named(tmp_path):
    out = tmp_path / "out"
    proc = _holder(out)
    try:
        with pytest.raises(LockedError, match=rf"being written by pscgan process {proc.pid} on"):
            with output_lock(out):
                pass
    finally:
        proc.kill()
        proc.wait()
    with output_lock(out):  # the kernel released the dead holder's lock: taken over
        assert json.loads((out / LOCK_FILE).read_text())["pid"] == os.getpid()


def test_a_stale_lock_file_of_a_dead_process_is_taken_over(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (out / LOCK_FILE).write_text(json.dumps({"pid": int(dead), "host": socket.gethostname()}))
    with output_lock(out):
        assert json.loads((out / LOCK_FILE).read_text())["pid"] == os.getpid()


def test_a_lock_recorded_on_another_host_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_FILE).write_text(json.dumps({"pid": 1, "host": "another-host.example"}))
    with pytest.raises(LockedError, match="another-host.example"):
        with output_lock(out):
            pass


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    with output_lock(tmp_path / "o"), output_lock(tmp_path / "o"):
        pass
    assert not (tmp_path / "o" / LOCK_FILE).exists()


def test_two_predicts_into_one_folder_never_both_write(tiny_ring_dataset, tiny_weights, tmp_path):
    """The issue's race: `predict DS --out O` and `predict DS --out O --resume` started together; one is
    refused with one line, and the folder ends complete (every listed subject has its files)."""
    out = tmp_path / "pred"
    cmd = [sys.executable, "-m", "pscgan", "predict", str(tiny_ring_dataset), "--weights", str(tiny_weights),
           "--out", str(out)]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(
        [*cmd, "--resume"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    results = [(p.wait(300), p.stderr.read()) for p in (first, second)]
    assert sorted(rc for rc, _ in results) in ([0, 0], [0, 2]), results
    for rc, err in results:
        if rc == 2:
            assert "being written by" in err or "already holds data" in err, err
            assert "Traceback" not in err
    summary = json.loads((out / "summary.json").read_text())
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert summary["subjects"] == folders and len(folders) == 8
    for name in folders:
        assert (out / name / "segmentation.nii.gz").is_file() and (out / name / "clinical.json").is_file()


def test_a_folder_created_for_a_command_that_fails_is_removed(tmp_path):
    with pytest.raises(RuntimeError):
        with output_lock(tmp_path / "out"):
            raise RuntimeError("refused before writing")
    assert not (tmp_path / "out").exists()
