"""An experiment run's training-time record (``timing.json``)."""

from __future__ import annotations

import json

from pscgan.experiments.run import TIMING_FILE, _record_training_time


def _log(run, sittings):
    """A train.log with one ``run ...`` line and one step line per (start, end) sitting, in seconds."""
    lines = []
    for start, end in sittings:
        lines.append(f"2026-01-01 10:{start // 60:02d}:{start % 60:02d},000 INFO run pscgan train ...")
        lines.append(f"2026-01-01 10:{end // 60:02d}:{end % 60:02d},500 INFO step=25 phase=coarse")
    (run / "train").mkdir(parents=True)
    (run / "train" / "train.log").write_text("\n".join(lines) + "\n")


def test_a_killed_sitting_counts_from_the_training_log(tmp_path):
    # the first sitting was killed (it never returned to record its time); the second resumed it
    _log(tmp_path, [(0, 180), (600, 1100)])
    _record_training_time(tmp_path, seconds=1.0)  # what the returning sitting measured is not used
    assert json.loads((tmp_path / TIMING_FILE).read_text()) == {"training_seconds": 681.0, "sessions": 2}


def test_a_run_without_a_training_log_adds_each_sitting(tmp_path):
    # baselines keep no train.log: each returning sitting adds what it measured
    _record_training_time(tmp_path, seconds=12.5)
    _record_training_time(tmp_path, seconds=7.5)
    assert json.loads((tmp_path / TIMING_FILE).read_text()) == {"training_seconds": 20.0, "sessions": 2}
