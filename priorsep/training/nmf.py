"""Making the NMF separator's dictionaries (:class:`priorsep.baselines.nmf.NMFSeparator`): source
k's dictionary from solo crops of source k alone, either learnt by the multiplicative β-divergence
updates of :func:`priorsep.dsp.nmf.beta_nmf` (:func:`train_nmf`, one update per step) or drawn as
``rank`` non-silent windows of those crops, picked at random or spread out (:func:`pick_exemplars`),
the shapes being the training audio itself (:func:`draw_exemplars`, one source per step;
"exemplar-based" NMF, Gemmeke et al. 2011). Both run
in the library's resumable loop (:class:`~priorsep.training.loop.ResumableTraining`: progress, log,
checkpoints and resume).

With ``steps`` updates per source, steps ``k * steps .. (k + 1) * steps - 1`` fit source k. The
loop checkpoints only where one source ends (its state: the dictionaries learnt so far), so a
resumed run always starts the next source afresh, as an uninterrupted run does; the usable model
is written once every dictionary is learnt.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from ..baselines.io import save_baseline
from ..baselines.nmf import NMFSeparator
from ..dsp.nmf import EPS, beta_divergence, beta_nmf, shingle
from ..dsp.stft import stft
from ..errors import DataError
from .loop import ResumableTraining, Step

LOG_EVERY = 10  # steps between the logged β-divergences (and each source's last step)
SILENT = 1e-3  # a window whose magnitudes sum below this per frame is silence, never an exemplar


def solo_magnitudes(crops, n: int, n_fft: int, hop: int, context: int = 1, batch: int = 32) -> torch.Tensor:
    """The magnitude spectrograms of the first ``n`` items ``(T,)`` of ``crops``, each cut into windows of
    ``context`` frames (:func:`~priorsep.dsp.nmf.shingle`), side by side: ``(context * F, n * windows)``."""
    if n < 1:
        raise DataError(f"NMF training needs at least one solo crop, got {n}")
    parts = []
    for start in range(0, n, batch):
        x = torch.stack([torch.as_tensor(crops[i]).float().reshape(-1) for i in range(start, min(n, start + batch))])
        v = shingle(stft(x, n_fft, hop).abs(), context, pad=False)  # (crops, context * F, windows)
        parts.append(v.permute(1, 0, 2).reshape(v.shape[1], -1))
    return torch.cat(parts, -1)


def train_nmf(model: NMFSeparator, solo_sets: Sequence, out: str | Path, *, steps: int, crops: int, seed: int = 0,
              quiet: bool = False) -> list[dict]:
    """Learn ``model.dictionaries[k]`` from ``crops`` items of ``solo_sets[k]`` (solo audio of source k,
    in ``model.names`` order), ``steps`` updates each; writes ``out`` (the
    model, at the end), ``out.train.pt`` (resume state, at the end of each source) and
    ``out.log.jsonl`` (the β-divergence per bin every :data:`LOG_EVERY` steps). Returns the log's records."""
    c = model.config
    k_sources, iterations = len(model.names), int(steps)
    _check_sets(model, solo_sets)
    loop = ResumableTraining(out, steps=k_sources * iterations, checkpoint_every=iterations, quiet=quiet,
                             desc="train nmf", nonfinite="non-finite β-divergence at step {step}; check the data")
    loop.resume({"model": model})
    factors: dict[str, torch.Tensor] = {}

    def step(i: int) -> Step:
        k, j = divmod(i, iterations)
        if j == 0:  # a new source: its spectrogram and seeded starting factors
            v = solo_magnitudes(solo_sets[k], crops, c["n_fft"], c["hop"], c["context"])
            g = torch.Generator().manual_seed(seed * 1000 + k)
            w = torch.rand(v.shape[0], c["rank"], generator=g) + 0.1
            factors.update(v=v, w=w / w.sum(0, keepdim=True),
                           h=torch.rand(c["rank"], v.shape[1], generator=g) * v.mean() + 1e-6)
        v = factors["v"]
        factors["w"], factors["h"] = beta_nmf(v, factors["w"], factors["h"], 1, c["beta"])
        if j == iterations - 1:
            model.dictionaries[k] = factors["w"]
        if j % LOG_EVERY and j != iterations - 1:  # the divergence costs as much as an update: not every step
            return Step({"source": model.names[k]}, {"activations": factors["h"].sum()})
        loss = beta_divergence(v, factors["w"] @ factors["h"], c["beta"]) / v.numel()
        return Step({"source": model.names[k], "divergence": loss.item()}, {"divergence": loss},
                    postfix={"source": model.names[k], "divergence": f"{loss.item():.3e}"})

    return _run(loop, step, model, out)


def pick_exemplars(v: torch.Tensor, rank: int, generator: torch.Generator, spread: bool = False) -> torch.Tensor:
    """``rank`` of the windows ``v (D, N)`` (magnitudes, columns), each scaled to sum to 1: ``(D, rank)``.

    At random, or with ``spread`` as k-means++ picks its seeds: each next window drawn with a
    probability proportional to its squared distance (unit-norm columns, so 2 - 2 cos) from the
    nearest one already picked, so that rare shapes are not crowded out by the common ones."""
    n = v.shape[1]
    if not spread:
        chosen = torch.randperm(n, generator=generator)[:rank]
    else:
        u = v / v.norm(dim=0, keepdim=True).clamp_min(EPS)
        chosen = torch.empty(rank, dtype=torch.long)
        chosen[0] = torch.randint(n, (1,), generator=generator)
        d2, free = torch.full((n,), float("inf")), torch.ones(n, dtype=torch.bool)
        for i in range(1, rank):
            d2 = torch.minimum(d2, (2 - 2 * (u[:, chosen[i - 1]] @ u)).clamp_min(0))
            free[chosen[i - 1]] = False  # never twice; the floor keeps windows equal to a picked one drawable
            chosen[i] = torch.multinomial((d2 + 1e-12) * free, 1, generator=generator)
    w = v[:, chosen] + EPS
    return w / w.sum(0, keepdim=True)


def draw_exemplars(model: NMFSeparator, solo_sets: Sequence, out: str | Path, *, crops: int, seed: int = 0,
                   spread: bool = False, quiet: bool = False) -> list[dict]:
    """Set ``model.dictionaries[k]`` to ``rank`` windows of ``context`` frames picked (at random or
    ``spread``: :func:`pick_exemplars`, seeded by ``seed`` and k) from the non-silent windows of
    ``crops`` items of ``solo_sets[k]``, each scaled to sum to 1; writes ``out``, ``out.train.pt`` and
    ``out.log.jsonl`` as :func:`train_nmf` does, one step per source. Returns the log's records."""
    c = model.config
    _check_sets(model, solo_sets)
    loop = ResumableTraining(out, steps=len(model.names), checkpoint_every=1, quiet=quiet, desc="nmf exemplars")
    loop.resume({"model": model})

    def step(k: int) -> Step:
        v = solo_magnitudes(solo_sets[k], crops, c["n_fft"], c["hop"], c["context"])
        v = v[:, v.sum(0) > SILENT * c["context"]]
        if v.shape[1] < c["rank"]:
            raise DataError(f"{model.names[k]!r}: {v.shape[1]} non-silent windows in {crops} solo crops, fewer than "
                            f"the {c['rank']} exemplars asked for; give more --solo-crops or a lower --rank")
        g = torch.Generator().manual_seed(seed * 1000 + k)
        model.dictionaries[k] = pick_exemplars(v, c["rank"], g, spread=spread)
        return Step({"source": model.names[k], "windows": v.shape[1]}, {"exemplars": model.dictionaries[k].sum()},
                    postfix={"source": model.names[k]})

    return _run(loop, step, model, out)


def _check_sets(model: NMFSeparator, solo_sets: Sequence) -> None:
    if len(solo_sets) != len(model.names):
        raise DataError(f"NMF dictionaries need one solo set per source ({len(model.names)}), got {len(solo_sets)}")


def _run(loop: ResumableTraining, step, model: NMFSeparator, out: str | Path) -> list[dict]:
    """Run ``loop``, writing the usable model only once every dictionary is made (resume state at each checkpoint)."""
    def save(done: int) -> None:
        model.config.update(trained_steps=done, paired_items=0)
        save_baseline(model, out)

    return loop.run(step, save=save, at_checkpoint=lambda done, records: done == loop.steps)
