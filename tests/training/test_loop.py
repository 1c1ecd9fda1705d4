"""The one resumable training loop (priorsep.training.loop): resume, log trimming, the finite-loss
check, rank-0 writes, hooks."""
import json

import pytest
import torch

from priorsep.checkpoint import read_log, side_file
from priorsep.distributed import Dist
from priorsep.errors import NumericalError
from priorsep.training import loop as loop_module
from priorsep.training.loop import ResumableTraining, Step, begin_stage, descend, stage_history
from priorsep.training.lr_schedule import cosine_decay

STEPS, EVERY = 6, 3


class Crash(Exception):
    pass


def _model(seed: int = 0) -> torch.nn.Linear:
    torch.manual_seed(seed)
    return torch.nn.Linear(4, 2)


def _train(out, model, *, crash_at=None, loss_at=None, stop_after=None, quiet=True, saved=None, **run_kw):
    """A tiny regression run: step ``i``'s batch comes from a generator seeded by ``i`` (as in the
    trainers), so a resumed run sees the data of an uninterrupted one."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = cosine_decay(opt, STEPS)
    loop = ResumableTraining(out, steps=STEPS, checkpoint_every=EVERY, desc="test", quiet=quiet, stop_after=stop_after)
    loop.resume({"model": model, "optimizer": opt, "scheduler": sched})

    def step(i: int) -> Step:
        if i == crash_at:
            raise Crash
        g = torch.Generator().manual_seed(i)
        x, y = torch.randn(8, 4, generator=g), torch.randn(8, 2, generator=g)
        loss = (model(x) - y).pow(2).mean() if loss_at is None or i != loss_at[0] else torch.tensor(loss_at[1])
        return Step({"loss": loss.item()}, {"loss": loss}, postfix={"loss": f"{loss.item():.3f}"},
                    update=lambda: descend(loss, opt, model.parameters(), sched, clip=1.0))

    def save(done: int) -> None:
        (saved if saved is not None else []).append(done)
        torch.save(model.state_dict(), side_file(out, ".pt"))

    return loop.run(step, save=save, **run_kw)


def _without_seconds(log):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in log]


def test_a_resumed_run_ends_with_the_parameters_and_log_of_an_uninterrupted_one(tmp_path):
    full = _model()
    log = _train(tmp_path / "full", full)
    assert [r["step"] for r in log] == list(range(1, STEPS + 1))
    assert list(log[0]) == ["step", "loss", "seconds"]
    with pytest.raises(Crash):  # dies in step 5, after the step-3 checkpoint
        _train(tmp_path / "cut", _model(), crash_at=4)
    assert torch.load(side_file(tmp_path / "cut", ".train.pt"), weights_only=True)["step"] == 3
    resumed = _model(seed=123)  # another init: everything must come from the state file
    log2 = _train(tmp_path / "cut", resumed)
    for a, b in zip(full.parameters(), resumed.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert _without_seconds(log2) == _without_seconds(log)
    state = torch.load(side_file(tmp_path / "cut", ".train.pt"), weights_only=True)
    assert list(state) == ["model", "optimizer", "scheduler", "step"] and state["step"] == STEPS


def test_stop_after_checkpoints_a_time_slice_and_the_rest_resumes(tmp_path):
    full, sliced = _model(), _model()
    _train(tmp_path / "full", full)
    assert [r["step"] for r in _train(tmp_path / "cut", sliced, stop_after=2)] == [1, 2]  # a checkpoint at the end
    _train(tmp_path / "cut", sliced)
    for a, b in zip(full.parameters(), sliced.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_the_log_is_trimmed_to_the_resumed_step(tmp_path, monkeypatch):
    """Killed between appending the log and saving the state of the step-6 checkpoint: the log has
    steps 4-6 that the state has not; the resumed run drops and redoes them."""
    out = tmp_path / "run"
    real = ResumableTraining.save_state

    def dies_at_the_last_state(self, done, extra):
        if done == STEPS:
            raise Crash
        real(self, done, extra)

    monkeypatch.setattr(ResumableTraining, "save_state", dies_at_the_last_state)
    with pytest.raises(Crash):
        _train(out, _model())
    assert [r["step"] for r in read_log(side_file(out, ".log.jsonl"))] == list(range(1, STEPS + 1))
    monkeypatch.setattr(ResumableTraining, "save_state", real)
    loop = ResumableTraining(out, steps=STEPS, checkpoint_every=EVERY, desc="test")
    model = _model()
    opt = torch.optim.Adam(model.parameters())
    loop.resume({"model": model, "optimizer": opt, "scheduler": cosine_decay(opt, STEPS)})
    seen = [r["step"] for r in read_log(side_file(out, ".log.jsonl"))]
    assert loop.start == 3 and seen == [1, 2, 3]
    log = _train(out, _model())
    assert [r["step"] for r in log] == list(range(1, STEPS + 1))  # no step logged twice or lost


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_loss_raises_before_the_update(tmp_path, bad):
    model = _model()
    with pytest.raises(NumericalError, match="non-finite loss at step 4; lower --lr or check the data"):
        _train(tmp_path / "run", model, loss_at=(4, bad))
    state = torch.load(side_file(tmp_path / "run", ".train.pt"), weights_only=True)
    assert state["step"] == 3  # nothing of step 5 was written
    for name, p in model.state_dict().items():  # the update of step 5 never ran
        assert torch.isfinite(p).all(), name
    assert len(read_log(side_file(tmp_path / "run", ".log.jsonl"))) == 3


def test_the_message_names_the_step_and_the_losses(tmp_path):
    loop = ResumableTraining(tmp_path / "m", steps=2, checkpoint_every=2, desc="t", quiet=True,
                             nonfinite="bad at step {step}: {losses}; lower the learning rates")
    loop.resume({})
    with pytest.raises(NumericalError, match=r"bad at step 0: \{'a': 1.0, 'b': nan\}; lower"):
        loop.run(lambda i: Step({}, {"a": torch.tensor(1.0), "b": torch.tensor(float("nan"))}), save=lambda d: None)


class _Rank(Dist):
    """A rank of a two-process job without a process group: barriers are counted."""

    barriers: list = []

    def barrier(self) -> None:
        self.barriers.append(self.rank)


@pytest.mark.parametrize("rank", [0, 1])
def test_only_rank_0_writes_and_shows_progress(tmp_path, monkeypatch, rank):
    monkeypatch.setattr(loop_module.distributed, "current", lambda: _Rank(rank=rank, world=2))
    bars = []
    real_tqdm = loop_module.tqdm
    monkeypatch.setattr(loop_module, "tqdm", lambda *a, **k: bars.append(k["disable"]) or real_tqdm(*a, **k))
    _Rank.barriers = []
    saved = []
    _train(tmp_path / "run", _model(), saved=saved, quiet=False)
    assert _Rank.barriers == [rank, rank]  # every rank meets at both checkpoints
    assert bars == [rank != 0]
    if rank == 0:
        assert saved == [3, 6]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run.log.jsonl", "run.pt", "run.train.pt"]
    else:
        assert saved == [] and list(tmp_path.iterdir()) == []


def test_quiet_turns_the_bar_off(tmp_path, monkeypatch):
    bars = []
    real_tqdm = loop_module.tqdm
    monkeypatch.setattr(loop_module, "tqdm", lambda *a, **k: bars.append(k["disable"]) or real_tqdm(*a, **k))
    _train(tmp_path / "a", _model(), quiet=True)
    _train(tmp_path / "b", _model(), quiet=False)
    assert bars == [True, False]


def test_checkpoint_hook_extra_state_and_early_stopping(tmp_path):
    """The hook adds records and decides whether the model is saved; extra state is saved after the
    step and comes back on resume; ``should_stop`` ends the run before a step."""
    scores = iter([2.0, 1.0, 3.0])
    best = {"val": 0.0, "bad": 0}

    def validate(done, records):
        val = next(scores)
        records.append({"step": done, "val": val})
        if val > best["val"]:
            best.update(val=val, bad=0)
            return True
        best["bad"] += 1
        return False

    saved = []
    out = tmp_path / "run"
    loop_kw = dict(at_checkpoint=validate, extra_state=lambda: {"best": best["val"], "bad": best["bad"]},
                   should_stop=lambda: best["bad"] >= 1)
    log = _train(out, _model(), saved=saved, **loop_kw)
    assert saved == [3]  # step 6 scored worse: not saved, and then the run had ended anyway
    assert [r for r in log if "val" in r] == [{"step": 3, "val": 2.0}, {"step": 6, "val": 1.0}]
    state = torch.load(side_file(out, ".train.pt"), weights_only=True)
    assert list(state)[-3:] == ["step", "best", "bad"] and (state["best"], state["bad"]) == (2.0, 1)

    early = tmp_path / "early"
    scores = iter([1.0, 0.5])
    best.update(val=0.0, bad=0)
    loop = ResumableTraining(early, steps=12, checkpoint_every=2, desc="t", quiet=True)
    loop.resume({})
    log = loop.run(lambda i: Step({"i": i}, {}), save=lambda d: None, **loop_kw)
    assert [r["step"] for r in log if "i" in r] == [1, 2, 3, 4]  # stopped after the first worse score


def test_resume_returns_the_state_for_the_trainers_extra_entries(tmp_path):
    out = tmp_path / "run"
    model = _model()
    loop = ResumableTraining(out, steps=2, checkpoint_every=2, desc="t", quiet=True)
    assert loop.resume({"model": model}) is None and loop.start == 0
    loop.run(lambda i: Step({}, {}), save=lambda d: None, extra_state=lambda: {"best_val": 1.5})
    again = ResumableTraining(out, steps=4, checkpoint_every=2, desc="t", quiet=True)
    state = again.resume({"model": _model(seed=5)})
    assert again.start == 2 and state["best_val"] == 1.5
    assert [json.loads(line)["step"] for line in side_file(out, ".log.jsonl").read_text().splitlines()] == [1, 2]


def test_stage_history_appends_the_previous_record():
    assert stage_history({}) == []
    assert stage_history({"training": {"a": 1}}) == [{"a": 1}]
    assert stage_history({"training_history": [{"a": 0}], "training": {"a": 1}}) == [{"a": 0}, {"a": 1}]
    # the checkpoint's stage keys join its record
    assert stage_history({"training": {"a": 1}, "trained_steps": 5, "training_data": "x", "other": 2}) == [
        {"a": 1, "trained_steps": 5, "training_data": "x"}]


def test_begin_stage_records_the_previous_stage_and_starts_a_new_one():
    config = {"training": {"a": 1}, "trained_steps": 5, "paired_items": 4, "sigma_min": 0.01}
    begin_stage(config, {"a": 2}, sigma_min=0.1)
    assert config == {"training": {"a": 2}, "training_history": [{"a": 1, "trained_steps": 5, "paired_items": 4}],
                      "paired_items": 4, "sigma_min": 0.1}
