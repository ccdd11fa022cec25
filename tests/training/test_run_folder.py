from __future__ import annotations

import json

from pscgan.training.distributed import init_distributed, rank_seed, reduce_mean
import pytest

from pscgan.errors import InputError
from pscgan.training.run_folder import (
    MetricsLog,
    environment_info,
    file_logger,
    log_sitting_start,
    resumed_environment,
    training_sittings,
)


def test_metrics_log_survives_a_cut_line_and_truncates(tmp_path):
    log = MetricsLog(tmp_path / "metrics.jsonl")
    for s in range(1, 5):
        log.write({"step": s, "loss": 1.0 / s})
    with open(log.path, "a") as fh:
        fh.write('{"step": 5, "lo')  # killed mid-line
    assert [r["step"] for r in log.read()] == [1, 2, 3, 4]
    log.truncate_after(2)
    assert [r["step"] for r in log.read()] == [1, 2]
    log.write({"step": 3})
    assert [r["step"] for r in log.read()] == [1, 2, 3]


def test_environment_info_is_json(tmp_path):
    info = environment_info(seed=3, device="cpu")
    json.dumps(info)
    assert info["seed"] == 3 and info["versions"]["torch"]


def test_a_resume_keeps_the_first_command_and_lists_every_resume():
    first = {**environment_info(seed=0, device="cpu"), "command": ["pscgan", "train", "--preset", "cpu"]}
    again = {**environment_info(seed=0, device="cuda"), "command": ["pscgan", "train", "--resume", "run"]}
    env = resumed_environment(resumed_environment(first, again), again)
    assert env["command"] == first["command"] and env["device"] == "cpu"
    assert [r["command"][-2:] for r in env["resumes"]] == [["--resume", "run"]] * 2
    assert env["resumes"][0]["device"] == "cuda" and "seed" not in env["resumes"][0]
    assert resumed_environment(None, again) == again  # a run from before environment records


def test_file_logger_writes(tmp_path):
    logger = file_logger(tmp_path)
    logger.info("hello")
    for h in logger.handlers:
        h.flush()
    assert "hello" in (tmp_path / "train.log").read_text()


def test_single_process_context():
    ctx = init_distributed(device="cpu")
    assert ctx.is_main and not ctx.distributed
    assert reduce_mean({"a": 2.0}, ctx) == {"a": 2.0}
    assert len({rank_seed(7, r) for r in range(8)}) == 8
    assert rank_seed(7, 0) == rank_seed(7, 0)


def test_training_time_is_summed_per_sitting_without_the_pause_between(tmp_path):
    (tmp_path / "train.log").write_text(
        "2026-01-01 10:00:00,000 INFO run R: 5 training and 1 validation slices, world size 1, device cpu\n"
        "2026-01-01 10:00:30,500 INFO step=25 phase=coarse\n"
        "Traceback (most recent call last):\n"  # a continuation line carries no time stamp
        "2026-01-01 10:01:00,000 INFO step=50 phase=coarse\n"
        "2026-01-02 09:00:00,000 INFO run R: 5 training and 1 validation slices, world size 1, device cpu "
        "(resumed)\n"
        "2026-01-02 09:02:00,000 INFO final weights written to R/model.safetensors\n"
    )
    assert training_sittings(tmp_path) == [60.0, 120.0]
    with pytest.raises(InputError, match="no training log"):
        training_sittings(tmp_path / "elsewhere")


def test_training_sittings_reads_what_the_training_log_writes(tmp_path):
    # Written through the same logger and sitting line as `pscgan train`, so a change of the log's
    # format that the parser does not follow fails here.
    logger = file_logger(tmp_path, name="pscgan.test_sittings")
    log_sitting_start(logger, tmp_path, "5 training and 1 validation slices", resumed=False)
    logger.info("step=25 phase=coarse")
    log_sitting_start(logger, tmp_path, "5 training and 1 validation slices", resumed=True)
    logger.info("final weights written")
    for h in logger.handlers:
        h.flush()
        h.close()
    sittings = training_sittings(tmp_path)
    assert len(sittings) == 2 and all(0 <= s < 60 for s in sittings)
    assert "(resumed)" in (tmp_path / "train.log").read_text().splitlines()[2]
