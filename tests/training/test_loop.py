"""The one training loop on toy tasks: exact resume from any stop, best weights, per-update log means, and
recovery from a non-finite step that the task itself did not catch."""

from __future__ import annotations

import json

import pytest
import torch

from pscgan.training.checkpoint import latest_checkpoint, load_checkpoint
from pscgan.training.distributed import single_process
from pscgan.training.divergence import DivergenceGuard
from pscgan.training.loop import Schedule, TrainingLoop
from pscgan.training.loop_state import TaskLayout
from pscgan.training.task import Task

DATA = [{"x": torch.tensor([float(i)])} for i in range(5)]


class Noisy(Task):
    """Fits a line to its batches with a random perturbation per step (every RNG must come back on resume);
    validation scores follow ``scores`` (one per validation), and ``poison`` steps report a NaN loss
    after a garbage update (a task that does not check its own updates)."""

    name = "noisy"

    def __init__(self, scores=(), poison=frozenset()):
        self.net = torch.nn.Linear(1, 1)
        self.modules = self.best_modules = {"net": self.net}
        self.optimizers = {"net": torch.optim.Adam(self.net.parameters(), lr=0.1)}
        self.scores, self.poison, self.validations = list(scores), poison, 0  # poison: shared by rebuilds

    def step(self, batches, index):
        x = next(batches)["x"]
        loss = (self.net(x + torch.rand_like(x)) - 2 * x).pow(2).mean()
        opt = self.optimizers["net"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        if index + 1 in self.poison:
            self.poison.discard(index + 1)  # a one-off fault
            with torch.no_grad():
                self.net.weight.fill_(float("nan"))
            return {"mse": float("nan")}
        return {"mse": loss.item(), "parts": [loss.item(), 2 * loss.item()]}

    def validate(self):
        if not self.scores:
            return None
        self.validations += 1
        return {"score": self.scores[(self.validations - 1) % len(self.scores)]}


def _loop(run, task, steps=6, stop_after=None, lr_schedule="constant", **intervals):
    run.mkdir(exist_ok=True)
    schedule = Schedule(steps=steps, batch_size=2, seed=4, lr_schedule=lr_schedule,
                        **({"log_interval": 2, "checkpoint_interval": 3} | intervals))
    guard = DivergenceGuard(base_lr=0.1, run=run)
    return TrainingLoop(lambda resumed: task(), DATA, schedule, run=run, ctx=single_process(),
                        layout=TaskLayout(), guard=guard, stop_after=stop_after)


def _resume(run):
    return load_checkpoint(run) if latest_checkpoint(run) is not None else None


def _records(run):
    return [{k: v for k, v in json.loads(line).items() if k != "seconds_per_step"}
            for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("stop", [1, 2, 3, 4, 5])
def test_a_stop_after_any_step_resumes_to_the_uninterrupted_weights_and_records(tmp_path, stop):
    straight = _loop(tmp_path / "a", Noisy).run()
    first = _loop(tmp_path / "b", Noisy, stop_after=stop).run()
    assert (first.finished, first.budget_spent, first.steps_done) == (False, True, stop)
    second = _loop(tmp_path / "b", Noisy).run(_resume(tmp_path / "b"))
    assert second.finished and second.steps_done == 6 - stop
    assert torch.equal(straight.task.net.weight, second.task.net.weight)
    assert _records(tmp_path / "a") == _records(tmp_path / "b")


class LrRecorder(Noisy):
    """Records the learning rate each of its steps ran with."""

    seen: list[float] = []

    def step(self, batches, index):
        LrRecorder.seen.append(self.optimizers["net"].param_groups[0]["lr"])
        return super().step(batches, index)


@pytest.mark.parametrize("stop", [2, 4])
def test_the_poly_schedule_decays_to_zero_and_resumes_on_the_same_curve(tmp_path, stop):
    LrRecorder.seen = []
    straight = _loop(tmp_path / "a", LrRecorder, lr_schedule="poly").run()
    expected = [0.1 * (1 - i / 6) ** 0.9 for i in range(6)]
    assert LrRecorder.seen == pytest.approx(expected)
    LrRecorder.seen = []
    _loop(tmp_path / "b", LrRecorder, lr_schedule="poly", stop_after=stop).run()
    second = _loop(tmp_path / "b", LrRecorder, lr_schedule="poly").run(_resume(tmp_path / "b"))
    assert LrRecorder.seen == pytest.approx(expected)
    assert torch.equal(straight.task.net.weight, second.task.net.weight)


def test_records_average_every_update_since_the_last_one(tmp_path):
    run = tmp_path / "run"
    _loop(run, Noisy, steps=4, log_interval=2).run()
    first = _records(run)[0]
    assert first["step"] == 2 and first["parts"] == pytest.approx(1.5 * first["mse"])


def test_the_best_validation_weights_are_loaded_back_also_after_a_resume(tmp_path):
    scores = (0.1, 0.9, 0.5)  # validations at steps 2, 4, 6: the best is step 4's

    def task():
        return Noisy(scores)

    run = tmp_path / "run"
    _loop(run, task, validation_interval=2, stop_after=5).run()
    best = load_checkpoint(run / "checkpoints" / "best")
    assert best.state == {"score": 0.9, "step": 4}
    # the resumed process never saw step 4 in memory: the weights come back from the best checkpoint
    result = _loop(run, lambda: Noisy(scores[2:]), validation_interval=2).run(_resume(run))
    torch.testing.assert_close(result.task.net.weight, best.module_state("net")["weight"], rtol=0, atol=0)
    assert [r.get("val_score") for r in _records(run) if "val_score" in r] == [0.1, 0.9, 0.5]


def test_a_non_finite_step_the_task_did_not_catch_is_rolled_back(tmp_path):
    run = tmp_path / "run"
    poison = {5}  # checkpoint at step 3, garbage at step 5 (once: the rebuilt task shares the set)
    result = _loop(run, lambda: Noisy(poison=poison)).run()
    events = [r for r in _records(run) if r.get("event")]
    assert [(e["phase"], e["failed_step"], e["step"], e["lr"]) for e in events] == [("noisy", 5, 3, 0.05)]
    assert torch.isfinite(result.task.net.weight).all() and result.finished
    assert {g["lr"] for g in result.task.optimizers["net"].param_groups} == {0.05}
    assert [r["step"] for r in _records(run) if "event" not in r] == [2, 4, 6]


def test_a_resumed_state_is_cross_checked_before_anything_is_restored(tmp_path):
    """``check_resume`` sees the checkpoint as unpacked, before the loop restores it: the resume checks of a
    one-task run (:func:`check_task_resume`, the baselines') pass the loop's own checkpoint, which carries
    the split's digest, and refuse it, in one line, for a run whose split changed since."""
    import shutil

    from pscgan.errors import InputError
    from pscgan.training.resume_checks import check_task_resume, split_digest

    split = {"train": ["a", "b"], "validation": ["c"]}
    guard = DivergenceGuard(base_lr=0.1)
    seen = []

    def loop(run, now, stop_after=None):
        def check(ck, state, optimizers):
            seen.append((ck.path.name, state.step, sorted(optimizers)))
            check_task_resume(ck, state, optimizers, steps=6, batch_size=2, n_train=len(DATA), guard=guard,
                              best_name="best", split=now)

        return TrainingLoop(lambda resumed: Noisy(), DATA, Schedule(steps=6, batch_size=2, seed=4), run=run,
                            ctx=single_process(), layout=TaskLayout(split_sha256=split_digest(split)),
                            guard=guard, stop_after=stop_after, check_resume=check)

    run = tmp_path / "run"
    run.mkdir()
    assert not loop(run, split, stop_after=4).run().finished
    assert load_checkpoint(run).state["split_sha256"] == split_digest(split)
    shutil.copytree(run, tmp_path / "swapped")
    assert loop(run, split).run(_resume(run)).finished
    assert seen == [("step_00000004", 4, ["net"])]
    swapped = {"train": ["a", "c"], "validation": ["b"]}  # the same counts, other subjects
    with pytest.raises(InputError, match="differs from the split"):
        loop(tmp_path / "swapped", swapped).run(_resume(tmp_path / "swapped"))


class Killed(Exception):
    """The process ends here (a kill between two checkpoints)."""


def test_a_run_killed_after_a_recovery_resumes_with_its_later_best(tmp_path):
    """A divergence rolls the run back behind its best validation (the best of step 4 is kept, the run goes
    back to step 3 and checkpoints it): killed then, it resumes from that checkpoint, which the resume checks
    accept, since the divergence record shows the run reached step 4."""
    from pscgan.training.resume_checks import check_task_resume

    calls = {"n": 0}

    class Doomed(Noisy):
        def step(self, batches, index):
            calls["n"] += 1
            if calls["n"] == 6:  # steps 1-4, step 5 (NaN), rolled back to 3: killed in step 4 again
                raise Killed
            return super().step(batches, index)

    guard = DivergenceGuard(base_lr=0.1)
    poison = {5}

    def loop(task):
        def check(ck, state, optimizers):
            check_task_resume(ck, state, optimizers, steps=6, batch_size=2, n_train=len(DATA), guard=guard,
                              best_name="best")

        schedule = Schedule(steps=6, batch_size=2, seed=4, validation_interval=2, checkpoint_interval=3)
        return TrainingLoop(lambda resumed: task(), DATA, schedule, run=run, ctx=single_process(),
                            layout=TaskLayout(), guard=guard, check_resume=check)

    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(Killed):
        loop(lambda: Doomed((0.1, 0.9), poison=poison)).run()
    stopped = load_checkpoint(run)
    assert stopped.path.name == "step_00000003"
    assert stopped.state["train"]["best"] == {"score": 0.9, "step": 4}
    result = loop(lambda: Noisy((0.5,))).run(_resume(run))
    assert result.finished and result.state.best == {"score": 0.9, "step": 4}
