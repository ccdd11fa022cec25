"""The run folder: resolved options, data split, environment, JSONL metrics and a log.

Every training run writes, beside its checkpoints, what is needed to understand and repeat it::

    RUN/
      config.json        the resolved preset/config (exactly what was trained)
      split.json         subject ids per split part (train / validation / test)
      environment.json   versions, device, threads, seed, world size, command line (and each resume's)
      metrics.jsonl      one JSON object per logged step: losses averaged since the previous one
                         (appended; trimmed to the resumed step)
      train.log          human-readable log
      samples/           PNG samples at each validation
      checkpoints/       see :mod:`pscgan.training.checkpoint`

Example:
    >>> import tempfile, pathlib
    >>> log = MetricsLog(pathlib.Path(tempfile.mkdtemp()) / "metrics.jsonl")
    >>> log.write({"step": 1, "loss": 0.5}); log.write({"step": 2, "loss": 0.4})
    >>> log.truncate_after(1); [r["step"] for r in log.read()]
    [1]
"""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from pscgan.io.atomic import write_json_atomic

CONFIG_FILE = "config.json"
SPLIT_FILE = "split.json"
ENV_FILE = "environment.json"
METRICS_FILE = "metrics.jsonl"
LOG_FILE = "train.log"

# train.log's line format; training_sittings parses what file_logger and log_sitting_start write.
_LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
_LOG_TIME_FORMAT = "%Y-%m-%d %H:%M:%S,%f"  # logging's asctime: milliseconds after a comma
_LOG_TIME_CHARS = 23
_SITTING_MARK = " INFO run "


def portable_command(command: list[str]) -> str:
    """A recorded command line as a user would type it: executables and folders by their last name, so
    that what ships or is published names no path of the machine the run was made on.

    A ``NAME=PATH`` argument keeps its name, and an argument with spaces is quoted, so the line can be
    typed again.

    Example:
        >>> portable_command(["/opt/venv/bin/pscgan", "train", "--out", "/data/runs/cpu"])
        'pscgan train --out cpu'
        >>> portable_command(["python", "bench.py", "--model", "U-Net, long=/exp/unet/model.safetensors"])
        "python bench.py --model 'U-Net, long=model.safetensors'"
    """
    import shlex

    def portable(arg: str) -> str:
        name, sep, value = arg.rpartition("=") if "=" in arg else ("", "", arg)
        return shlex.quote(name + sep + (Path(value).name if "/" in value else value))

    return " ".join(portable(a) for a in command)


def environment_info(*, seed: int | None = None, device: str | None = None, world_size: int = 1,
                     deterministic: bool | None = None) -> dict[str, Any]:
    """Versions and settings that affect a run's numbers."""
    import numpy
    import torch

    import pscgan

    versions = {"python": platform.python_version(), "pscgan": pscgan.__version__, "torch": torch.__version__,
                "numpy": numpy.__version__}
    for mod in ("monai", "nibabel", "pydicom", "scipy", "skimage", "safetensors"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - informative only
            versions[mod] = None
    info: dict[str, Any] = {
        "versions": versions,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda_available": torch.cuda.is_available(),
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        if torch.cuda.is_available() else [],
        "device": device,
        "seed": seed,
        "world_size": world_size,
        "deterministic": deterministic,
        "command": sys.argv,
    }
    return info


def resumed_environment(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """The environment record of a resumed run: the sitting that created the run stays the record (its
    command is the one that says what was trained), and each resume is appended to ``resumes`` with its
    own command line, versions and threads, so a run continued elsewhere says so.

    Example:
        >>> first = {"command": ["pscgan", "train", "--out", "run"], "versions": {"torch": "2.13.0"}}
        >>> again = {"command": ["pscgan", "train", "--resume", "run"], "versions": {"torch": "2.13.0"}}
        >>> env = resumed_environment(first, again)
        >>> env["command"], [r["command"][-2] for r in env["resumes"]]
        (['pscgan', 'train', '--out', 'run'], ['--resume'])
    """
    if not previous:  # an older run without a record: this sitting is all that is known
        return current
    resume = {k: current.get(k) for k in _RESUME_KEYS}
    return {**previous, "resumes": [*previous.get("resumes", []), resume]}


# what may differ between a run's sittings
_RESUME_KEYS = ("command", "versions", "platform", "cpu_count", "torch_threads", "device", "cuda_devices",
                "deterministic")


def write_run_json(run: Path, name: str, obj: Any) -> None:
    write_json_atomic(Path(run) / name, obj)


class MetricsLog:
    """Append-only JSON-lines metrics file, safe to resume.

    Each line is flushed and fsync'ed; a line cut short by a crash is dropped on read and by
    :meth:`truncate_after`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, allow_nan=True, separators=(",", ":"))
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                continue  # a line cut short by a crash (or not a record at all)
            if isinstance(record, dict):
                out.append(record)
        return out

    def truncate_after(self, step: int, key: str = "step") -> None:
        """Drop records logged after ``step`` (they will be logged again when training resumes), and
        records whose ``key`` is not a number (not what training writes)."""
        def before(record: dict[str, Any]) -> bool:
            value = record.get(key, -1)
            return isinstance(value, (int, float)) and not isinstance(value, bool) and value <= step

        write_json_lines_atomic(self.path, [r for r in self.read() if before(r)])


def write_json_lines_atomic(path: Path, records: list[dict[str, Any]]) -> None:
    from pscgan.io.atomic import write_text_atomic

    write_text_atomic(path, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))


def training_sittings(run: Path) -> list[float]:
    """Wall-clock seconds of each sitting of a training run, read from its ``train.log``.

    Every sitting (the first, and each ``--resume``) opens with a ``run ...`` line, so the hours a run
    spent stopped between sittings are not counted as training.

    Raises:
        InputError: the run has no readable ``train.log``, or a sitting in it ends before it starts.
    """
    from pscgan.errors import InputError

    path = Path(run) / LOG_FILE
    if not path.is_file():
        raise InputError(path, "no training log; the training time of this run cannot be measured")
    try:
        # bytes that are not UTF-8 can only be in a message, never in the time stamps read here
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise InputError(path, f"cannot read the training log ({exc.strerror or exc})") from None
    sittings: list[list[datetime]] = []
    for line in text.splitlines():
        try:
            stamp = datetime.strptime(line[:_LOG_TIME_CHARS], _LOG_TIME_FORMAT)
        except ValueError:
            continue  # a continuation line of a multi-line message
        if _SITTING_MARK in line or not sittings:
            sittings.append([])
        sittings[-1].append(stamp)
    seconds = [(s[-1] - s[0]).total_seconds() for s in sittings]
    backwards = next((i for i, t in enumerate(seconds) if t < 0), None)
    if backwards is not None:
        raise InputError(path, f"sitting {backwards + 1} ends before it starts (its time stamps go "
                               "backwards); the training time of this run cannot be measured")
    return seconds


def log_sitting_start(logger: logging.Logger, run: Path, description: str, *, resumed: bool) -> None:
    """Open a sitting of training in ``train.log`` (the line :func:`training_sittings` splits on)."""
    logger.info("run %s: %s%s", run, description, " (resumed)" if resumed else "")


def file_logger(run: Path, name: str = "pscgan.train", *, enabled: bool = True) -> logging.Logger:
    """A logger writing to ``RUN/train.log`` (only on the process that owns the run folder)."""
    logger = logging.getLogger(f"{name}.{Path(run).resolve()}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if enabled and not logger.handlers:
        handler = logging.FileHandler(Path(run) / LOG_FILE, encoding="utf-8")
        handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        logger.addHandler(handler)
    if not enabled:
        logger.addHandler(logging.NullHandler())
    return logger
