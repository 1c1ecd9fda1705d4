"""Resuming a long overlap-add separation per batch of chunks after an interruption.

A caller that can be interrupted (the file runner, :mod:`priorsep.separation.files`) wraps one
separation in :func:`resumable`; the first :func:`~priorsep.dsp.overlap_add.overlap_add` inside it
claims the state, saves its accumulated output and the number of finished batches to ``path`` as it
goes, and, when ``path`` already holds a state of the same job, starts after the batches it holds.
Later or nested ``overlap_add`` calls of the same separation (an encoder's pass inside a chunk)
run as usual. The state says which job it belongs to (the caller's ``key`` plus the mix's shape,
checksum and chunking): a state of another job is ignored and replaced, never resumed.
"""
from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from ..checkpoint import atomic_torch_save

SAVE_EVERY_S = 10.0  # seconds between saves: a 3-minute song's state is about 100 MB

_ACTIVE: contextvars.ContextVar["ChunkState | None"] = contextvars.ContextVar("priorsep_chunk_state", default=None)


class ChunkState:
    """The partial output of one overlap-add job in ``path``, saved at most every ``every`` seconds
    (default :data:`SAVE_EVERY_S`)."""

    def __init__(self, path: str | Path, key: str, every: float | None = None):
        self.path, self.key = Path(path), key
        self.every = SAVE_EVERY_S if every is None else every
        self.claimed = False
        self._last = time.monotonic()

    def _job(self, job: str) -> str:
        return f"{self.key}|{job}"

    def load(self, job: str, device: torch.device) -> tuple[int, torch.Tensor] | None:
        """``(finished batches, accumulated output)`` saved for ``job``, or ``None`` (no state, or one
        of another job)."""
        if not self.path.is_file():
            return None
        try:
            state = torch.load(self.path, map_location=device, weights_only=True)
        except Exception:  # a state from another version or a damaged file: start over (it is ours, not the user's)
            return None
        if not isinstance(state, dict) or state.get("job") != self._job(job):
            return None
        return int(state["batches"]), state["out"]

    def save(self, job: str, batches: int, out: torch.Tensor) -> None:
        """Record that ``batches`` batches are accumulated in ``out``; skipped when the last save is
        under ``every`` seconds old."""
        if time.monotonic() - self._last < self.every:
            return
        atomic_torch_save({"job": self._job(job), "batches": batches, "out": out.cpu()}, self.path)
        self._last = time.monotonic()

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


@contextmanager
def resumable(path: str | Path, key: str, every: float | None = None):
    """Within the block, the first overlap-add job saves its progress to ``path`` and resumes from
    a state there of the same ``key``. The state file is removed when the block finishes without
    an error (the caller has its result); after an interruption it stays for the next run."""
    state = ChunkState(path, key, every)
    token = _ACTIVE.set(state)
    try:
        yield state
    finally:
        _ACTIVE.reset(token)
    state.clear()


def claim() -> ChunkState | None:
    """The active :class:`ChunkState` if no overlap-add job of this block has taken it yet."""
    state = _ACTIVE.get()
    if state is None or state.claimed:
        return None
    state.claimed = True
    return state
