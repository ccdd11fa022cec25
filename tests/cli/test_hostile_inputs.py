"""Every class of thing a user can hand a command ends in a result or in one error line naming the file,
never a traceback, and never loses data (issue 19). Hostile cases are generated per class and counted in
the test summary with the fuzz cases: output locations (every writing command), dataset manifests and
subject metadata, run folders given to ``train --resume``, prediction folders given to ``evaluate`` and
``report``, and datasets that would train on nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app

from ..json_mutations import MISSING, fields, mutated, value_at

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
DEEP = "[" * 100_000 + "]" * 100_000


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*")) if not p.is_symlink()}


def _refused(fuzz_cases, args: list[str], *, code: int = 2, names: Path | str | None = None) -> str:
    """Run ``pscgan ARGS``: it must end with ``code`` and one error line (no traceback), naming ``names``."""
    with fuzz_cases.watchdog(" ".join(str(a) for a in args[:2])):
        res = CliRunner().invoke(app, [str(a) for a in args])
    text = " ".join(res.output.split())
    assert res.exit_code == code, (args, res.output, res.exception)
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit), (args, res.output)
    if code == 2:  # one error (a field of a record may be named "error" too)
        assert sum(line.startswith("error:") for line in res.output.splitlines()) == 1, text
    if names is not None:
        assert str(names) in text.replace(" ", "") or str(names) in text, (names, text)
    return text


@pytest.fixture
def world(tiny_ring_dataset, tiny_weights, tmp_path):
    """A dataset of three subjects, a prediction folder of it, and the weights, all in ``tmp_path``."""
    ds = tmp_path / "ds"
    ds.mkdir()
    ids = ["ring_00", "ring_01", "ring_02"]
    for sid in ids:
        shutil.copytree(tiny_ring_dataset / sid, ds / sid)
    manifest = json.loads((tiny_ring_dataset / "dataset.json").read_text())
    manifest.update(subjects=ids, split={"train": ids[:2], "test": ids[2:]})
    (ds / "dataset.json").write_text(json.dumps(manifest))
    weights = tmp_path / "w.safetensors"
    shutil.copy(tiny_weights, weights)
    pred = tmp_path / "pred"
    assert (
        CliRunner().invoke(app, ["predict", str(ds), "--weights", str(weights), "--out", str(pred)]).exit_code
        == 0
    )
    return tmp_path, ds, pred, weights


def _commands(ds: Path, pred: Path, weights: Path) -> dict[str, tuple[list, str]]:
    """Each writing command with OUT as its output (``dir``: a folder, ``file``: a file)."""
    return {
        "predict": (["predict", ds, "--weights", weights, "--overwrite", "--out"], "dir"),
        "predict-resume": (["predict", ds, "--weights", weights, "--resume", "--out"], "dir"),
        "evaluate": (["evaluate", pred, ds, "--overwrite", "--out"], "dir"),
        "report": (["report", pred, ds, "--overwrite", "--out"], "dir"),
        "train": (["train", "--data", ds, "--preset", "tiny", "--overwrite", "--out"], "dir"),
        "experiment": (
            ["experiment", "table3", "--data", ds, "--preset", "tiny", "--overwrite", "--out"],
            "dir",
        ),
        "cv": (["cv", "--data", ds, "--preset", "tiny", "--folds", "2", "--overwrite", "--out"], "dir"),
        "phantom": (["phantom", "generate", "-n", "1", "--overwrite", "--out"], "dir"),
        "demo": (["demo", "--weights", weights, "--overwrite", "--out"], "dir"),
        "quantify": (["quantify", ds / "ring_00" / "labels.nii.gz", "--overwrite", "--json"], "file"),
        "export": (["export", "--weights", weights, "--no-check", "--overwrite", "--onnx"], "file"),
        "cache": (["data", "cache", ds, "--overwrite", "--out"], "file"),
    }


def _locations(tmp: Path, ds: Path, pred: Path, kind: str, command: str) -> dict[str, Path]:
    (tmp / "a-file").write_text("the user's file")
    loop = tmp / "loop"
    if not loop.is_symlink():
        os.symlink(tmp / "loop2", loop)
        os.symlink(loop, tmp / "loop2")
    own = tmp / "thesis"
    own.mkdir(exist_ok=True)
    (own / "chapter.tex").write_text("precious")
    places = {
        "below-a-file": tmp / "a-file" / "out",
        "link-loop": loop / "out",
        "read-only": tmp / "ro" / "out",
    }
    if kind == "dir":
        places["users-folder"] = own
    else:
        places["a-folder"] = own
    if command not in ("phantom", "demo"):
        places["the-input"] = ds if kind == "dir" else ds / "ring_00" / "labels.nii.gz"
        places["above-an-input"] = tmp
        places["inside-an-input"] = ds / "ring_00" / ("out" if kind == "dir" else "cine.nii.gz")
    if command in ("evaluate", "report"):
        places["the-prediction"] = pred
        places["a-predicted-subject"] = pred / "ring_00"
    return places


COMMANDS = ["predict", "predict-resume", "evaluate", "report", "train", "experiment", "cv", "phantom", "demo",
            "quantify", "export", "cache"]


@pytest.mark.parametrize("command", COMMANDS)
def test_hostile_output_locations_are_refused_and_lose_nothing(world, command, fuzz_cases, monkeypatch):
    tmp, ds, pred, weights = world
    args, kind = _commands(ds, pred, weights)[command]
    (tmp / "ro").mkdir()
    real_access = os.access
    # a read-only folder, also when the tests run as root (who passes every permission check)
    monkeypatch.setattr(os, "access", lambda p, m, **k: False if str(p).startswith(str(tmp / "ro"))
                        else real_access(p, m, **k))
    for where, out in _locations(tmp, ds, pred, kind, command).items():
        before = _snapshot(tmp)
        _refused(fuzz_cases, [*args, out])
        assert _snapshot(tmp) == before, f"{command} --out {where} changed files"


def test_predict_resume_into_a_users_folder_deletes_nothing(world, fuzz_cases):
    tmp, ds, _, weights = world
    own = tmp / "own"
    own.mkdir()
    (own / ".draft.tmp").write_text("mine")
    (own / ".figures.partial").mkdir()
    (own / "notes.txt").write_text("mine")
    before = _snapshot(own)
    _refused(fuzz_cases, ["predict", ds, "--weights", weights, "--resume", "--out", own], names=own)
    assert _snapshot(own) == before


MANIFESTS = {
    "escape": {"name": "x", "subjects": ["../escape"]},
    "absolute": {"name": "x", "subjects": ["/etc"]},
    "split-escape": {"name": "x", "subjects": ["ring_00"], "split": {"train": ["../../x"]}},
    "array": [],
    "wrong-types": {"name": 5, "subjects": "ring_00"},
}


def _hostile_json(path: Path, content) -> None:  # noqa: ANN001 - any JSON value, or raw text/bytes
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps(content))


@pytest.mark.parametrize("case", [*MANIFESTS, "deep", "bytes", "not-utf8"])
def test_hostile_dataset_manifests(world, case, fuzz_cases):
    tmp, ds, _, weights = world
    content = {"deep": DEEP, "bytes": os.urandom(300), "not-utf8": b'{"name": "\xff"}'}.get(
        case, MANIFESTS.get(case)
    )
    _hostile_json(ds / "dataset.json", content)
    manifest = ds / "dataset.json"
    _refused(fuzz_cases, ["data", "check", ds], names=manifest)
    _refused(
        fuzz_cases, ["train", "--data", ds, "--out", tmp / f"run-{case}", "--preset", "tiny"], names=manifest
    )
    assert not (tmp / "escape").exists()


@pytest.mark.parametrize("case", ["deep", "array", "bytes", "subject-id-escape"])
def test_hostile_subject_metadata(world, case, fuzz_cases):
    tmp, ds, _, _ = world
    path = ds / "ring_01" / "subject.json"
    info = json.loads(path.read_text())
    content = {"deep": DEEP, "array": [], "bytes": os.urandom(200),
               "subject-id-escape": {**info, "subject_id": "../ring_00"}}[case]
    _hostile_json(path, content)
    text = _refused(fuzz_cases, ["data", "check", ds], code=1)
    assert "ring_01" in text and "1 of 3 subjects have problems" in text
    _refused(fuzz_cases, ["train", "--data", ds, "--out", tmp / "run", "--preset", "tiny"], names=path)


def test_a_folder_named_unlike_its_subject_id_is_a_problem(world, fuzz_cases):
    tmp, ds, _, _ = world
    path = ds / "ring_01" / "subject.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "subject_id": "ring_99"}))
    text = _refused(fuzz_cases, ["data", "check", ds], code=1)
    assert "ring_99" in text and "1 of 3 subjects have problems" in text
    _refused(fuzz_cases, ["train", "--data", ds, "--out", tmp / "run", "--preset", "tiny"], names=path)


@pytest.mark.parametrize("missing", ["labels.nii.gz", "lge.nii.gz"])
def test_training_data_without_any_labels_or_lge_is_refused(world, missing, fuzz_cases):
    tmp, ds, _, _ = world
    for sid in ("ring_00", "ring_01", "ring_02"):
        (ds / sid / missing).unlink()
    text = _refused(fuzz_cases, ["train", "--data", ds, "--out", tmp / "run", "--preset", "tiny",
                                 "--validation-fraction", "0"], names=ds)
    # the message names what is missing in words ("no labels", "no LGE images")
    assert f"no {missing.split('.')[0]}" in text.lower()


def _state_edits() -> dict[str, object]:
    train = lambda **kw: {"__dict__": [["train", {"__dict__": [[k, v] for k, v in kw.items()]}]]}  # noqa: E731
    return {"string": "x", "deep": json.loads("[" * 900 + "]" * 900), "phase-far": train(phase_index=10**9),
            "phase-text": train(phase_index="two"), "step-negative": train(phase_index=0, phase_step=-5),
            "unknown-key": train(phase_index=0, surprise=1), "tensor-missing": {"__tensor__": "nope"},
            "unknown-node": {"__set__": []}}


ENVIRONMENTS = {  # environment.json of the run, read on resume to check the number of processes
    "env-deep": lambda env: DEEP,
    "env-array": lambda env: "[]",
    "env-nan": lambda env: json.dumps({**env, "cpu_count": float("nan")}),
    "env-world-text": lambda env: json.dumps({**env, "world_size": "1"}),
    "env-resumes-number": lambda env: json.dumps({**env, "resumes": 5}),
}


@pytest.fixture(scope="module")
def finished_run(tiny_ring_dataset, tmp_path_factory):
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.training.launch import TrainOptions, run_training

    cfg = apply_overrides(get_preset("tiny"), ["train.steps_per_phase=2"])
    run = tmp_path_factory.mktemp("hostile-run") / "run"
    run_training(TrainOptions(run=run, data=tiny_ring_dataset, config=cfg, progress=False, stop_after=3))
    return run


@pytest.mark.parametrize(
    "case",
    ["corrupt", "missing", "no-dataset", "deep", "array", "ids-not-list", *_state_edits(), *ENVIRONMENTS],
)
def test_hostile_run_folders_on_resume(finished_run, tmp_path, case, fuzz_cases):
    from pscgan.training.checkpoint import _meta_digest, latest_checkpoint

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    split = run / "split.json"
    data = json.loads(split.read_text())
    target = split
    if case == "corrupt":
        split.write_text('{"dataset": ')
    elif case == "missing":
        split.unlink()
    elif case == "no-dataset":
        split.write_text(json.dumps({k: v for k, v in data.items() if k != "dataset"}))
    elif case == "deep":
        split.write_text(DEEP)
    elif case == "array":
        split.write_text("[]")
    elif case == "ids-not-list":
        split.write_text(json.dumps({**data, "train": "ring_00"}))
    elif case in ENVIRONMENTS:
        target = run / "environment.json"
        env = json.loads(target.read_text())
        target.write_text(ENVIRONMENTS[case](env))
    else:  # state.json edited, its checksum recomputed
        target = latest_checkpoint(run) / "state.json"
        meta = json.loads(target.read_text())
        meta["state"] = _state_edits()[case]
        meta["meta_sha256"] = _meta_digest(meta)
        target.write_text(json.dumps(meta))
    _refused(fuzz_cases, ["train", "--resume", run], names=target)


NETWORK = {
    "object-array": lambda p: np.savez(p, cine=np.array([{"a": 1}], dtype=object)),
    "random-bytes": lambda p: p.write_bytes(os.urandom(2000)),
    "text": lambda p: p.write_text("not an archive"),
    "no-cine": lambda p: np.savez(p, segmentation=np.zeros((2, 16, 16), np.uint8)),
    "wrong-dims": lambda p: np.savez(p, cine=np.zeros((16, 16), np.float32)),
    "nan": lambda p: np.savez(p, cine=np.full((2, 6, 16, 16), np.nan, np.float32),
                              segmentation=np.zeros((2, 16, 16), np.uint8)),
    "labels-7": lambda p: np.savez(p, cine=np.zeros((2, 6, 16, 16), np.float32),
                                   segmentation=np.full((2, 16, 16), 7, np.uint8)),
    "other-grid": lambda p: np.savez(p, cine=np.zeros((2, 6, 16, 16), np.float32),
                                     segmentation=np.zeros((3, 8, 8), np.uint8)),
    "strings": lambda p: np.savez(p, cine=np.array(["a", "b"])),
    "huge-header": lambda p: p.write_bytes(_huge_npz()),
}


def _huge_npz() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    header = io.BytesIO()
    np.lib.format.write_array_header_2_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (10**6, 10**6)})
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("cine.npy", header.getvalue() + b"\0" * 64)
    return buf.getvalue()


CLINICAL = {"array": "[]", "empty-object": "{}", "deep": DEEP, "bytes": "\udcff", "slices-text": None}


PARTS = {"deep": DEEP, "bytes": "\udcff", "array": "[]", "wrong-type": '{"synthetic_lge": [1]}'}


@pytest.mark.parametrize("case", [*(f"network-{k}" for k in NETWORK), *(f"clinical-{k}" for k in CLINICAL),
                                  *(f"parts-{k}" for k in PARTS), "records-deep", "records-object"])
def test_hostile_prediction_folders(world, case, fuzz_cases):
    tmp, ds, pred, _ = world
    kind, _, name = case.partition("-")
    folder = pred / "ring_01"
    if kind == "network":
        target = folder / "network.npz"
        target.unlink()
        NETWORK[name](target)
    elif kind == "clinical":
        target = folder / "clinical.json"
        if name == "slices-text":
            target.write_text(json.dumps({**json.loads(target.read_text()), "slices": "none"}))
        elif name == "bytes":
            target.write_bytes(b"\xff\xfe{")
        else:
            target.write_text(CLINICAL[name])
    elif kind == "parts":  # a baseline's declaration of what it predicts
        target = folder / "parts.json"
        if name == "bytes":
            target.write_bytes(b"\xff\xfe{")
        else:
            target.write_text(PARTS[name])
    else:
        target = folder / "records.json"
        target.write_text(DEEP if name == "deep" else "{}")
    before = _snapshot(ds)
    _refused(fuzz_cases, ["evaluate", pred, ds, "--out", tmp / "eval"], names=target)
    _refused(fuzz_cases, ["report", pred, ds, "--out", tmp / "report"], names=target)
    assert _snapshot(ds) == before


def _set(node, keys, value) -> None:  # noqa: ANN001 - a tree_codec skeleton
    """Set ``keys`` (a path of dict keys) in a checkpoint state skeleton to ``value``."""
    for i, key in enumerate(keys):
        pair = next(p for p in node["__dict__"] if p[0] == key)
        if i == len(keys) - 1:
            pair[1] = value
        node = pair[1]


TRAIN = ("train",)
VALID_EDITS = {  # each type-checks and lies within the run; none agrees with the rest of the run folder
    "step-back": [(TRAIN + ("phase_step",), 0)],
    "phase-back": [(TRAIN + ("phase_index",), 0)],
    "stream-position": [(TRAIN + ("stream", "position"), 0)],
    "stream-epoch": [(TRAIN + ("stream", "epoch"), 7)],
    "lr-scale": [(TRAIN + ("divergence", "lr_scale"), 0.25)],
    "retries": [(TRAIN + ("divergence", "retries"), 2)],
    "best-later-phase": [(TRAIN + ("best",), {"__dict__": [["segmentation", {"__dict__": [["score", 0.9],
                                                                                         ["step", 1]]}]]})],
    "best-nan": [(TRAIN + ("best",), {"__dict__": [["coarse", {"__dict__": [["score", float("nan")],
                                                                          ["step", 1]]}]]})],
    "best-future-step": [(TRAIN + ("best",), {"__dict__": [["synthesis", {"__dict__": [["score", 0.5],
                                                                                      ["step", 2]]}]]})],
    "window-nan": [(TRAIN + ("log_window",),
                    {"__dict__": [["sums", {"__dict__": [["g_total", float("inf")]]}],
                                  ["counts", {"__dict__": [["g_total", 1]]}]]})],
    "name": "name",
    "renamed-folder": "renamed",
    "split-swapped": "split-swapped",
    "split-unknown": "split-unknown",
    "split-overlap": "split-overlap",
}


@pytest.mark.parametrize("case", list(VALID_EDITS))
def test_edited_states_that_type_check_are_refused_on_resume(finished_run, tmp_path, case, fuzz_cases):
    """state.json edited with its checksum recomputed, every value of the right type and within the run:
    the resume cross-checks it against the checkpoint's name, the optimisers' step counts, the batch
    stream, the divergence record, the best weights and the split (training/resume_checks.py)."""
    from pscgan.training.checkpoint import _meta_digest, latest_checkpoint

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    ck = latest_checkpoint(run)
    target = ck / "state.json"
    meta = json.loads(target.read_text())
    edit = VALID_EDITS[case]
    split_path = run / "split.json"
    split = json.loads(split_path.read_text())
    if case == "name":
        meta["name"] = "step_00000001"
    elif case == "renamed-folder":  # the state of step 3 moved to where step 4's would be
        _set(meta["state"], TRAIN + ("phase_step",), 2)
        ck.rename(ck.with_name("step_00000004"))
        (run / "checkpoints" / "latest.json").write_text(json.dumps({"name": "step_00000004"}))
        target = ck.with_name("step_00000004") / "state.json"
        meta["name"] = "step_00000004"
    elif case.startswith("split-"):
        target = split_path
        if case == "split-swapped":
            split["train"][0], split["validation"][0] = split["validation"][0], split["train"][0]
        elif case == "split-unknown":
            split["validation"] = ["ring_99"]
        else:
            split["validation"] = split["validation"] + split["train"][:1]
        split_path.write_text(json.dumps(split))
    else:
        for keys, value in edit:
            _set(meta["state"], keys, value)
    if not case.startswith("split-"):
        meta["meta_sha256"] = _meta_digest(meta)
        target.write_text(json.dumps(meta))
    text = _refused(fuzz_cases, ["train", "--resume", run], names=target)
    assert "checkpoint" in text or "split" in text.lower() or "subject" in text


FIELD_MUTATIONS = {"nan": float("nan"), "inf": float("inf"), "huge": 1e308, "bigint": 10**40, "negative": -7,
                   "text": "x", "null": None, "array": [], "object": {}, "missing": MISSING}


def _ends_cleanly(fuzz_cases, args: list, names: Path) -> None:
    """``pscgan ARGS`` ends in a result (exit 0) or in one error line naming ``names`` (exit 2)."""
    with fuzz_cases.watchdog(" ".join(str(a) for a in args[:2])):
        res = CliRunner().invoke(app, [str(a) for a in args])
    text = " ".join(res.output.split())
    assert isinstance(res.exception, SystemExit) or res.exception is None, (args, res.exception)
    assert res.exit_code in (0, 2) and "Traceback" not in res.output, (args, res.output)
    if res.exit_code == 2:
        assert text.count("error:") == 1 and str(names) in text, text


def _pairs_cleanly(fuzz_cases, pred: Path, ds: Path, target: Path) -> None:
    """Read and pair one predicted subject as evaluate and report do: a result or an InputError naming
    ``target``."""
    from pscgan.clinical.quantify import Quantification
    from pscgan.errors import PscganError
    from pscgan.evaluation.pairing import pair_subject

    with fuzz_cases.watchdog(f"pairing {target.name}"):
        try:
            paired = pair_subject(pred, ds, "ring_01", frames=4, crop=16)
            Quantification.from_dict(paired.clinical_pred)  # what the report reads
        except PscganError as exc:
            assert str(target) in str(exc) and "\n" not in str(exc), str(exc)


@pytest.mark.parametrize("name", ["records.json", "clinical.json"])
def test_every_field_of_a_predictions_json_files(world, name, fuzz_cases):
    """Each field of a predicted subject's records.json and clinical.json set to NaN, inf, 1e308, 10**40,
    -7, text, null, an array or an object, or removed: read and paired as evaluate and report do (every
    case), and through the commands themselves (evaluate every eighth case, report every fortieth), each
    ends in its result or in one line naming the file and the field."""
    tmp, ds, pred, _ = world
    target = pred / "ring_01" / name
    original = json.loads(target.read_text())
    n = 0
    for path in list(fields(original)):
        for mutation in FIELD_MUTATIONS.values():
            edited = mutated(original, path, mutation)
            if edited is None:
                continue
            target.write_text(json.dumps(edited))
            _pairs_cleanly(fuzz_cases, pred, ds, target)
            commands = ("evaluate", "report") if n % 40 == 0 else ("evaluate",) if n % 8 == 0 else ()
            for command in commands:
                _ends_cleanly(fuzz_cases, [command, pred, ds, "--overwrite", "--out", tmp / command], target)
            n += 1
    assert n > 100


def test_a_damaged_metrics_log_is_trimmed_on_resume(finished_run, tmp_path, fuzz_cases):
    """Lines that are not training records (an array, JSON nested too deep, bytes that are not UTF-8, a
    step that is text) are dropped when the resumed run trims its log; the run finishes."""
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    log = run / "metrics.jsonl"
    good = log.read_bytes()
    log.write_bytes(good + b"[]\n" + DEEP.encode() + b"\n\xff\xfe{\n" + b'{"step": "x"}\n')
    with fuzz_cases.watchdog("train --resume"):
        res = CliRunner().invoke(app, ["train", "--resume", str(run)])
    assert res.exit_code == 0, res.output
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert all(isinstance(r, dict) and isinstance(r.get("step", 0), int) for r in records)


@pytest.mark.parametrize("command", ["train", "anatomy"])
def test_flag_values_nested_too_deep_are_one_line(world, command, fuzz_cases):
    tmp, ds, _, _ = world
    deep = "[" * 100_000 + "]" * 100_000
    if command == "train":
        args = ["train", "--data", ds, "--out", tmp / "run", "--preset", "tiny", "--set",
                f"train.seed={deep}"]
    else:
        args = ["anatomy", "train", "--pack", f"a={tmp / 'none.npz'}", "--validation", tmp / "none.npz",
                "--out", tmp / "anat", "--set", f"channels={deep}"]
    _refused(fuzz_cases, args)
    assert not (tmp / "run").exists() and not (tmp / "anat").exists()


RESUMED = {"clinical-array": ("ring_01/clinical.json", "[]"), "clinical-nan": ("ring_01/clinical.json", None),
           "batch-deep": ("batch.json", DEEP), "batch-weights-array": ("batch.json", '{"weights": []}')}


@pytest.mark.parametrize("case", list(RESUMED))
def test_hostile_prediction_folders_on_resume(world, case, fuzz_cases):
    """``predict --resume`` keeps the finished subjects it finds and reads the folder's records: a damaged
    one is one line naming it."""
    tmp, ds, pred, weights = world
    name, content = RESUMED[case]
    target = pred / name
    if content is None:
        clinical = json.loads(target.read_text())
        clinical["subject"]["myocardium_volume_ml"] = float("nan")
        content = json.dumps(clinical)
    target.write_text(content)
    _refused(fuzz_cases, ["predict", ds, "--weights", weights, "--resume", "--out", pred], names=target)


def _outputs_records(good: dict) -> dict[str, object]:
    """A subject's outputs.json, damaged: each is not a record of failed outputs (text: written as is)."""
    failure = {"output": "dicom/segmentation.dcm", "description": "DICOM SEG", "error": "E"}
    cases: dict[str, object] = {"deep": DEEP, "not-json": '{"failed": [', "bytes": b"\xff\xfe{", "empty": "",
                                "array": [], "null": None, "text": "x", "number": 3,
                                "no-failed": {"notes": []}, "failed-null": {**good, "failed": None},
                                "failed-text": {**good, "failed": "none"},
                                "failed-object": {**good, "failed": {}},
                                "failed-nested-deep": {**good, "failed": json.loads("[" * 500 + "]" * 500)},
                                "failed-too-many": {**good, "failed": [failure] * 101},
                                "notes-text": {**good, "notes": "x"}, "notes-numbers": {**good, "notes": [1]}}
    for field in failure:  # each field of a failure: removed, or of another type
        for label, value in {"missing": MISSING, "number": 7, "null": None, "bool": True, "array": [],
                             "nan": float("nan")}.items():
            edited = dict(failure)
            if value is MISSING:
                del edited[field]
            else:
                edited[field] = value
            cases[f"failure-{field}-{label}"] = {**good, "failed": [edited]}
    cases["failure-empty-output"] = {**good, "failed": [{**failure, "output": ""}]}
    cases["failure-huge-error"] = {**good, "failed": [{**failure, "error": "x" * 200_000}]}
    return cases


def test_damaged_outputs_records_are_refused_on_resume(world, fuzz_cases):
    """A kept subject's outputs.json says which optional outputs failed, so that ``--resume`` predicts the
    subject again; one that does not read as such a record (not JSON, nested too deep, of the wrong type,
    a failure without its fields or with fields of the wrong type) refuses the resume in one line naming the
    file and what to do, and changes nothing; a folder in its place too."""
    tmp, ds, pred, weights = world
    target = pred / "ring_01" / "outputs.json"
    good = json.loads(target.read_text())
    args = ["predict", ds, "--weights", weights, "--resume", "--out", pred]
    cases = _outputs_records(good)
    for case, content in cases.items():
        _hostile_json(target, content)
        before = _snapshot(pred)
        text = _refused(fuzz_cases, args, names=target)
        assert "delete the folder ring_01 to predict it again" in text and "--overwrite" in text, (case, text)
        assert _snapshot(pred) == before, case
    target.unlink()
    target.mkdir()
    _refused(fuzz_cases, args, names=target)
    assert len(cases) > 30


def test_a_missing_outputs_record_is_judged_by_what_is_on_disk(world, fuzz_cases):
    """A finished subject without outputs.json (from a pscgan before the file, or deleted) is kept when its
    input has no optional outputs (a NIfTI subject), and is not counted as having none unread."""
    tmp, ds, pred, weights = world
    (pred / "ring_01" / "outputs.json").unlink()
    before = _snapshot(pred / "ring_01")
    with fuzz_cases.watchdog("predict --resume"):
        res = CliRunner().invoke(app, [str(a) for a in ["predict", ds, "--weights", weights, "--resume",
                                                        "--out", pred]])
    assert res.exit_code == 0, res.output
    assert json.loads((pred / "summary.json").read_text())["kept_from_before"] == ["ring_00", "ring_01",
                                                                                  "ring_02"]
    assert _snapshot(pred / "ring_01") == before


def _batch_records(good: dict) -> dict[str, dict]:
    """batch.json with its weights' SHA-256 or anatomy record damaged."""
    weights = good["weights"]
    shas = {"number": 5, "null": None, "short": "ab12", "upper": weights["sha256"].upper(),
            "array": [weights["sha256"]], "bool": True, "long": "a" * 10_000}
    cases = {f"sha-{label}": {**good, "weights": {**weights, "sha256": v}} for label, v in shas.items()}
    cases["sha-missing"] = {**good, "weights": {k: v for k, v in weights.items() if k != "sha256"}}
    cases["anatomy-text"] = {**good, "weights": {**weights, "anatomy": "acdc"}}
    cases["anatomy-array"] = {**good, "weights": {**weights, "anatomy": []}}
    cases["anatomy-no-sha"] = {**good, "weights": {**weights, "anatomy": {"file": "a.safetensors"}}}
    cases["anatomy-sha-number"] = {**good, "weights": {**weights, "anatomy": {"sha256": 1}}}
    return cases


def test_damaged_batch_records_are_refused_on_resume(world, fuzz_cases):
    """batch.json names the weights (and the anatomy network) that predicted the folder; a SHA-256 that is
    not one, or an anatomy record that is not an object with one, refuses the resume in one line naming the
    file and the field, and changes nothing."""
    tmp, ds, pred, weights = world
    target = pred / "batch.json"
    good = json.loads(target.read_text())
    args = ["predict", ds, "--weights", weights, "--resume", "--out", pred]
    for case, content in _batch_records(good).items():
        _hostile_json(target, content)
        before = _snapshot(pred)
        text = _refused(fuzz_cases, args, names=target)
        assert "field weights." in text, (case, text)
        assert _snapshot(pred) == before, case


def test_resume_refuses_another_anatomy_network(world, fuzz_cases):
    """A folder predicted with the anatomy network is not resumed without it (nor the other way round): one
    folder never mixes two ways of finding the LV."""
    tmp, ds, pred, weights = world
    target = pred / "batch.json"
    good = json.loads(target.read_text())
    args = ["predict", ds, "--weights", weights, "--resume", "--out", pred]
    had = good["weights"].get("anatomy") is not None
    text = _refused(fuzz_cases, [*args, "--no-anatomy"] if had else args, names=pred)
    assert "anatomy network" in text
    anatomy = {"file": "other.safetensors", "sha256": "0" * 64}
    other = {**good, "weights": {**good["weights"], "anatomy": anatomy}}
    target.write_text(json.dumps(other))
    text = _refused(fuzz_cases, args, names=pred)
    assert "other.safetensors" in text


NUMERIC_MUTATIONS = {**FIELD_MUTATIONS, "true": True, "zero": 0, "text-number": "1.5", "tiny": 1e-320}


def _must_refuse_value(original, mutation) -> bool:  # noqa: ANN001
    """Whether a field holding ``original`` (a number, boolean or text) may never be read as ``mutation``."""
    if mutation is MISSING:
        return False  # an optional field may be left out
    if isinstance(mutation, (list, dict)):
        return not isinstance(original, (list, dict))  # a container where a value belongs
    if isinstance(mutation, (int, float)) and not isinstance(mutation, bool) and not abs(mutation) < 1e12:
        return True  # NaN, inf, 1e308, 10**40
    if isinstance(original, (int, float)) and not isinstance(original, bool):
        return isinstance(mutation, (str, bool))  # text or a boolean is no number
    if isinstance(original, bool):
        return mutation is not None and not isinstance(mutation, bool)
    return False


def test_every_field_of_subject_metadata(world, fuzz_cases):
    """Each field of a subject's subject.json (numbers, booleans, text, its slices and provenance) set to
    NaN, inf, 1e308, 10**40, -7, 0, 1e-320, true, "1.5", text, null, an array or an object, or removed: read
    as every command reads it, it is a valid, finite, bounded record or one line naming the file and the
    field, never coerced ("1.5" is not a number, true is not 1); `pscgan data check` (every tenth case)
    reports it on one line."""
    from pscgan.data.layout import read_subject_info
    from pscgan.errors import PscganError

    tmp, ds, _, _ = world
    target = ds / "ring_01" / "subject.json"
    original = json.loads(target.read_text())
    n = 0
    for path in list(fields(original)):
        if path[0] in ("phantom",) or path[:2] == ("provenance", "details"):
            continue  # free-form records no command computes with
        node = value_at(original, path)
        for mutation in NUMERIC_MUTATIONS.values():
            edited = mutated(original, path, mutation)
            if edited is None or edited == original:
                continue
            target.write_text(json.dumps(edited))
            with fuzz_cases.watchdog("subject.json"):
                try:
                    info = read_subject_info(target.parent)
                except PscganError as exc:
                    assert str(target) in str(exc) and "\n" not in str(exc), str(exc)
                else:
                    assert not _must_refuse_value(node, mutation), (path, mutation)
                    numbers = [*info.pixel_spacing_mm, info.slice_thickness_mm, info.n_phases, info.ed_phase,
                               *(v for v in (info.rr_interval_ms, info.field_strength_t,
                                             info.lge_slice_thickness_mm) if v is not None),
                               *(v for s in info.slices for v in (s.index, s.rv_insertion_angle_deg,
                                                                  s.position_mm) if v is not None)]
                    assert all(np.isfinite(v) and abs(v) <= 1e5 for v in numbers), (path, mutation)
                    assert 0 <= info.ed_phase < info.n_phases
            if n % 10 == 0:
                with fuzz_cases.watchdog("data check"):
                    res = CliRunner().invoke(app, ["data", "check", str(ds)])
                assert res.exit_code in (0, 1) and "Traceback" not in res.output, res.output
                assert res.exception is None or isinstance(res.exception, SystemExit), res.output
            n += 1
    assert n > 150


def test_every_field_of_kept_identifiers(world, fuzz_cases):
    """Each field of a subject's identifiers.json (kept by `predict --keep-identifiers`) set to NaN, inf,
    1e308, 10**40, -7, 0, true, a number as text, text, null, an array or an object, or removed: the report
    shows the identifiers as text, or names the file and the field in one line; a number or a boolean is
    never shown as if it were the patient's (report through the command every fifteenth case)."""
    from pscgan.errors import PscganError
    from pscgan.report.build import _identifiers

    tmp, ds, pred, _ = world
    target = pred / "ring_01" / "identifiers.json"
    original = {"PatientName": "Doe^Jane", "PatientID": "P-0017", "PatientBirthDate": "19700101",
                "PatientSex": "F", "StudyDate": "20240102", "AccessionNumber": "A1", "SeriesNumber": "7",
                "StudyDescription": "cardiac", "InstitutionName": "Hospital", "SeriesDescription": "cine"}
    n = 0
    cases = [*(("deep", DEEP), ("array", "[]"), ("bytes", b"\xff\xfe{"), ("folder", None))]
    for path in list(fields(original)):
        for label, mutation in NUMERIC_MUTATIONS.items():
            edited = mutated(original, path, mutation)
            if edited is not None and edited != original:
                cases.append((f"{path[0]}-{label}", json.dumps(edited)))
    for case, content in cases:
        if case == "folder":
            target.unlink(missing_ok=True)
            target.mkdir()
        else:
            _hostile_json(target, content)
        with fuzz_cases.watchdog("identifiers.json"):
            try:
                shown = _identifiers(target.parent)
            except PscganError as exc:
                assert str(target) in str(exc) and "\n" not in str(exc), str(exc)
            else:
                assert all(isinstance(v, str) for v in shown.values()), (case, shown)
                edited = json.loads(content)
                assert all(isinstance(v, str) or v is None for v in edited.values()), (case, shown)
        if n % 15 == 0:
            _ends_cleanly(fuzz_cases, ["report", pred, "--keep-identifiers", "--overwrite", "--out",
                                       tmp / "report"], target)
        if case == "folder":
            target.rmdir()
        n += 1
    assert n > 100
