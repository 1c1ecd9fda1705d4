"""Separating signals of any length by windowed overlap-add over fixed-length chunks.

Chunks overlap (by half unless told otherwise) and are cross-faded with a Hann window, normalised by the summed windows,
so a separator that returns its input reproduces the input exactly (no seams, no gain ripple).
Chunks go through the separator ``batch`` at a time and are accumulated straight into the output:
memory is the output plus one batch of chunks, whatever the length of the song. Inside
:func:`~priorsep.dsp.chunk_state.resumable` the accumulated output is saved as batches finish, and
an interrupted job resumes after its last saved batch.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import ConfigError
from .chunk_state import claim


def chunk_starts(t: int, chunk: int, multiple: int = 1, overlap: float = 0.5) -> tuple[int, list[int]]:
    """The chunk length (``chunk`` rounded up to a multiple of ``multiple``, at most ``t`` rounded up)
    and the starts of chunks covering ``t`` samples, each overlapping the next by the share
    ``overlap`` of a chunk (the hop rounded down to a multiple; the last chunk ends at ``t``)."""
    if t < 1 or chunk < 1 or multiple < 1:
        raise ConfigError(f"need t, chunk and multiple >= 1; got {t}, {chunk}, {multiple}")
    if not 0 <= overlap < 1:
        raise ConfigError(f"chunk overlap must be in [0, 1), got {overlap}")
    chunk = max(multiple, (min(chunk, t) + multiple - 1) // multiple * multiple)
    if t <= chunk:
        return chunk, [0]
    hop = max(multiple, int(chunk * (1 - overlap)) // multiple * multiple)
    starts = list(range(0, t - chunk + 1, hop))
    if starts[-1] + chunk < t:
        starts.append(t - chunk)
    return chunk, starts


def pad_to(mixes: torch.Tensor, length: int) -> torch.Tensor:
    """``mixes (B, T)`` padded at the end to ``length`` samples, by reflection (a silent pad would be
    out of distribution for priors and encoders), or by repeating the last sample when ``T`` is too
    short to reflect; unchanged if ``T >= length``."""
    t = mixes.shape[-1]
    if t >= length:
        return mixes
    pad = length - t
    return torch.nn.functional.pad(mixes[:, None], (0, pad), mode="reflect" if pad < t else "replicate")[:, 0]


def overlap_add(
    separate: Callable[[torch.Tensor], torch.Tensor],
    mixes: torch.Tensor,
    chunk: int,
    multiple: int = 1,
    batch: int = 16,
    progress: bool = False,
    min_length: int = 1,
    generator: torch.Generator | None = None,
    overlap: float = 0.5,
) -> torch.Tensor:
    """Apply ``separate: (N, L) -> (N, K, L)`` to ``mixes (B, T)`` of any length; returns ``(B, K, T)``.

    ``chunk``: samples per chunk (rounded up to ``multiple``, the length the separator needs).
    A mix shorter than one chunk is padded by reflection (a silent pad would be out of distribution
    for priors) to a multiple of ``multiple``, and first to ``min_length`` samples (for separators
    that need the context they were trained on, or an STFT window). ``batch``: chunks per call of
    ``separate``. ``overlap``: the share of a chunk the next one overlaps (:func:`chunk_starts`;
    half by default: every sample but the ends is separated twice). ``progress``: a bar over chunks
    (done, rate, time left). ``generator``, the one a random ``separate`` draws from: re-seeded
    before every batch after the first from its initial seed and the batch's index, so a batch's
    random numbers do not depend on the batches before it and a job resumed mid-way
    (:mod:`~priorsep.dsp.chunk_state`) gives the output of an
    uninterrupted one. The first batch draws from it as given.
    """
    if mixes.dim() != 2:
        raise ConfigError(f"overlap_add takes mixes shaped (B, T), got {tuple(mixes.shape)}")
    if batch < 1:
        raise ConfigError(f"batch must be >= 1, got {batch}")
    t = mixes.shape[-1]
    mixes = pad_to(mixes, min_length)
    b, padded = mixes.shape
    length, starts = chunk_starts(padded, chunk, multiple, overlap)
    mixes = pad_to(mixes, length)
    window = torch.hann_window(length, periodic=False, dtype=mixes.dtype, device=mixes.device).clamp_min(1e-3)
    norm = mixes.new_zeros(mixes.shape[-1])
    for s0 in starts:
        norm[s0 : s0 + length] += window
    jobs = [(i, s0) for i in range(b) for s0 in starts]
    batches = [jobs[j : j + batch] for j in range(0, len(jobs), batch)]
    state, out, done = claim(), None, 0
    job = _describe(mixes, length, starts, batch) if state is not None else ""
    if state is not None and (saved := state.load(job, mixes.device)) is not None:
        done, out = saved
    first_seed = generator.initial_seed() if generator is not None else None
    bar = tqdm(total=len(jobs), initial=sum(map(len, batches[:done])), disable=not progress, desc="chunks",
               unit="chunk")
    for n in range(done, len(batches)):
        if generator is not None and n > 0:
            generator.manual_seed(batch_seed(first_seed, n))
        part = batches[n]
        est = separate(torch.stack([mixes[i, s0 : s0 + length] for i, s0 in part]))
        if out is None:
            out = mixes.new_zeros(b, est.shape[1], mixes.shape[-1])
        for (i, s0), e in zip(part, est):
            out[i, :, s0 : s0 + length] += e * (window / norm[s0 : s0 + length])
        bar.update(len(part))
        if state is not None and n + 1 < len(batches):
            state.save(job, n + 1, out)
    bar.close()
    return out[..., :t]


def batch_seed(first_seed: int, index: int) -> int:
    """The seed of batch ``index`` (> 0) of a job whose generator started from ``first_seed``."""
    return int(np.random.SeedSequence([first_seed, index]).generate_state(2, np.uint32).view(np.uint64)[0] % 2**63)


def _describe(mixes: torch.Tensor, length: int, starts: list[int], batch: int) -> str:
    """What a saved state must match to be resumed: the padded mixes' shape and checksums, the chunking."""
    x = mixes.double()
    return f"shape={tuple(mixes.shape)} sum={x.sum().item():.10e} abs={x.abs().sum().item():.10e} " \
           f"chunk={length} hop={starts[1] - starts[0] if len(starts) > 1 else 0} batch={batch}"
