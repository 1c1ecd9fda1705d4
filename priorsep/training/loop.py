"""The one resumable training loop every trainer runs (priors, posteriors, Wave-U-Net, FactorGAN).

A trainer builds its model, optimisers and schedulers, then hands them to a
:class:`ResumableTraining`, which owns the rest:

* the side files of ``out``: ``STEM.train.pt`` (the registered objects' state_dicts, the step and
  the trainer's extra state: everything to resume exactly) and ``STEM.log.jsonl`` (one record per
  step, plus whatever the checkpoint hook adds);
* resuming from ``STEM.train.pt`` (and trimming the log to the resumed step, see
  :func:`priorsep.checkpoint.trim_log`);
* the steps ``start .. end - 1`` with a tqdm bar (off with ``quiet`` and on every rank but 0), the
  check that every loss is finite (:class:`~priorsep.errors.NumericalError` otherwise), the log
  record ``{"step", **the step's fields, "seconds"}``;
* a checkpoint every ``checkpoint_every`` steps and after the last one: the hook (validation, on
  every rank), then on rank 0 only the log (first), the usable model through the family's save
  callback, and the state (last, atomically); then a barrier, so that no rank runs ahead of, or
  reads, a checkpoint being written.

The trainer supplies the step function ``step -> Step`` (its batch from the step index, its losses,
its parameter update) and the hooks. Data and noise come from the step index, so a resumed run
repeats an uninterrupted one exactly without saving any RNG state.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import torch
from tqdm.auto import tqdm

from .. import distributed
from ..checkpoint import append_log, atomic_torch_save, read_log, read_training_state, side_file, trim_log
from ..errors import NumericalError


@dataclass
class Step:
    """What one training step returns to the loop.

    ``record``: the log record's fields (the loop adds ``"step"`` before and ``"seconds"`` after them);
    ``losses``: tensors that must be finite, checked before ``update`` runs; ``update``: the
    parameter update (e.g. :func:`descend`), or ``None`` if the step function updated already;
    ``postfix``: what the progress bar shows."""

    record: dict
    losses: Mapping[str, torch.Tensor]
    update: Callable[[], None] | None = None
    postfix: Mapping[str, Any] | None = None


def descend(loss: torch.Tensor, optimizer: torch.optim.Optimizer, params: Iterable[torch.Tensor],
            scheduler=None, *, clip: float | None = None, average: bool = False) -> None:
    """One gradient step on ``loss``: zero the gradients, backward, (``average``: all-reduce the
    gradients of ``params`` over the ranks, for models DDP does not wrap), (``clip``: clip their
    norm), step the optimiser and (if given) the scheduler."""
    params = list(params)
    optimizer.zero_grad()
    loss.backward()
    if average:
        distributed.current().average_gradients(params)
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(params, clip)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()


#: checkpoint keys that describe a finished stage besides its ``training`` record
STAGE_KEYS = ("training_data", "trained_steps", "paired_items")


def stage_history(config: dict) -> list[dict]:
    """The records of the stages before this one: a model trained further (``--init``) keeps its
    ``training_history`` and appends its own ``training`` record to it (with the checkpoint's
    :data:`STAGE_KEYS`)."""
    earlier = list(config.get("training_history", []))
    if "training" in config:
        earlier.append({**config["training"], **{k: config[k] for k in STAGE_KEYS if k in config}})
    return earlier


def begin_stage(config: dict, training: dict, **updates) -> None:
    """Turn a trained model's ``config`` (in place) into that of a further training stage: its
    record joins ``training_history``, ``training`` is this stage's, ``updates`` are set (e.g. new
    data or sigma range) and ``trained_steps`` is dropped until this stage saves."""
    history = stage_history(config)
    config.pop("trained_steps", None)
    config.update(training=training, training_history=history, **updates)


class ResumableTraining:
    """The loop of a ``steps``-step run writing next to the checkpoint stem ``out``.

    ``stop_after``: checkpoint and return after this step (a time slice of the run; schedules
    follow ``steps``). ``nonfinite``: the message of the :class:`NumericalError` for a non-finite
    loss, formatted with ``step`` and ``losses`` (name -> value)."""

    def __init__(self, out: str | Path, *, steps: int, checkpoint_every: int, desc: str, quiet: bool = False,
                 stop_after: int | None = None,
                 nonfinite: str = "non-finite loss at step {step}; lower --lr or check the data"):
        self.out = out
        self.state_path, self.log_path = side_file(out, ".train.pt"), side_file(out, ".log.jsonl")
        self.steps, self.checkpoint_every, self.desc, self.quiet = steps, checkpoint_every, desc, quiet
        self.end = steps if stop_after is None else min(steps, stop_after)
        self.nonfinite = nonfinite
        self.d = distributed.current()
        self.objects: dict[str, Any] = {}
        self.start = 0

    def resume(self, objects: Mapping[str, Any], map_location: torch.device | str = "cpu") -> dict | None:
        """Register the objects whose ``state_dict`` the state file holds (model, optimisers,
        schedulers, ..., saved under these keys in this order) and, if ``STEM.train.pt`` exists,
        load them from it, continue from its step and trim the log (rank 0). Returns the state read
        (for the trainer's extra entries), or ``None`` on a fresh start."""
        self.objects = dict(objects)
        if not self.state_path.is_file():
            return None
        state = read_training_state(self.state_path, map_location)
        for key, obj in self.objects.items():
            obj.load_state_dict(state[key])
        self.start = int(state["step"])
        if self.d.is_main:
            trim_log(self.log_path, self.start)
        return state

    def run(self, step: Callable[[int], Step], *, save: Callable[[int], None],
            at_checkpoint: Callable[[int, list[dict]], bool] | None = None,
            extra_state: Callable[[], dict] | None = None,
            should_stop: Callable[[], bool] | None = None) -> list[dict]:
        """Train steps ``start .. end - 1``; returns every record of the log.

        ``save(done)`` writes the usable model (rank 0 only). ``at_checkpoint(done, records)`` runs
        on every rank before each checkpoint, may add to the records not yet logged, and returns
        whether ``save`` should run (e.g. a better validation score). ``extra_state()``: entries
        saved after ``"step"`` in the state file. ``should_stop()``: checked before each step (early
        stopping)."""
        records: list[dict] = []
        t0 = time.time()
        bar = tqdm(range(self.start, self.end), initial=self.start, total=self.steps,
                   disable=self.quiet or not self.d.is_main, desc=self.desc)
        for i in bar:
            if should_stop is not None and should_stop():
                break
            out = step(i)
            if not all(torch.isfinite(v).all() for v in out.losses.values()):
                raise NumericalError(self.nonfinite.format(step=i, losses={n: v.item() for n, v in out.losses.items()}))
            if out.update is not None:
                out.update()
            records.append({"step": i + 1, **out.record, "seconds": round(time.time() - t0, 2)})
            if out.postfix is not None:
                bar.set_postfix(out.postfix)
            done = i + 1
            if done % self.checkpoint_every == 0 or done == self.end:
                keep = True if at_checkpoint is None else at_checkpoint(done, records)
                if self.d.is_main:
                    append_log(self.log_path, records)  # log first, state last (see append_log)
                    if keep:
                        save(done)
                    self.save_state(done, extra_state() if extra_state is not None else {})
                self.d.barrier()  # no rank runs ahead of (or reads) a checkpoint being written
                records = []
        return read_log(self.log_path)

    def save_state(self, done: int, extra: dict) -> None:
        """``STEM.train.pt``: the registered objects' state_dicts, ``"step": done``, then ``extra`` (atomically)."""
        state = {key: obj.state_dict() for key, obj in self.objects.items()}
        atomic_torch_save({**state, "step": done, **extra}, self.state_path)
