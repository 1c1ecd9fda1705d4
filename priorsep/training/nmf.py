"""Learning the NMF separator's dictionaries (:class:`priorsep.baselines.nmf.NMFSeparator`): source
k's dictionary from solo crops of source k alone, by the multiplicative β-divergence updates of
:func:`priorsep.dsp.nmf.beta_nmf`, one update per step of the library's resumable loop
(:class:`~priorsep.training.loop.ResumableTraining`: progress, log, checkpoints and resume).

With ``steps`` updates per source, steps ``k * steps .. (k + 1) * steps - 1`` fit source k. The
loop checkpoints where one source ends; the usable model is written once every dictionary is
learnt. A resumed run rebuilds the current source's spectrogram from the same seeded crops and
continues from the saved factors.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from ..baselines.io import save_baseline
from ..baselines.nmf import NMFSeparator
from ..dsp.nmf import beta_divergence, beta_nmf
from ..dsp.stft import stft
from ..errors import DataError
from .loop import ResumableTraining, Step

LOG_EVERY = 10  # steps between the logged β-divergences (and each source's last step)


def solo_magnitudes(crops, n: int, n_fft: int, hop: int, batch: int = 32) -> torch.Tensor:
    """The magnitude spectrograms of the first ``n`` items ``(T,)`` of ``crops``, side by side ``(F, n * frames)``."""
    if n < 1:
        raise DataError(f"NMF training needs at least one solo crop, got {n}")
    parts = []
    for start in range(0, n, batch):
        x = torch.stack([torch.as_tensor(crops[i]).float().reshape(-1) for i in range(start, min(n, start + batch))])
        parts.append(stft(x, n_fft, hop).abs().permute(1, 0, 2).reshape(n_fft // 2 + 1, -1))
    return torch.cat(parts, -1)


def train_nmf(model: NMFSeparator, solo_sets: Sequence, out: str | Path, *, steps: int, crops: int, seed: int = 0,
              quiet: bool = False) -> list[dict]:
    """Learn ``model.dictionaries[k]`` from ``crops`` items of ``solo_sets[k]`` (solo audio of source k,
    in ``model.names`` order), ``steps`` updates each; writes ``out`` (the
    model, at the end), ``out.train.pt`` (resume state, at the end of each source) and
    ``out.log.jsonl`` (the β-divergence per bin every :data:`LOG_EVERY` steps). Returns the log's records."""
    c = model.config
    k_sources, iterations = len(model.names), int(steps)
    if len(solo_sets) != k_sources:
        raise DataError(f"NMF training needs one solo set per source ({k_sources}), got {len(solo_sets)}")
    loop = ResumableTraining(out, steps=k_sources * iterations, checkpoint_every=iterations, quiet=quiet,
                             desc="train nmf", nonfinite="non-finite β-divergence at step {step}; check the data")
    state = loop.resume({"model": model})
    factors = {"source": -1, "v": None, "w": None, "h": None}
    if state is not None and "w" in state and loop.start % iterations:
        factors.update(w=state["w"], h=state["h"])

    def step(i: int) -> Step:
        k, j = divmod(i, iterations)
        if factors["source"] != k:  # a new source, or a resumed run: this source's spectrogram
            factors.update(source=k, v=solo_magnitudes(solo_sets[k], crops, c["n_fft"], c["hop"]))
            if j == 0 or factors["w"] is None:
                g = torch.Generator().manual_seed(seed * 1000 + k)
                v = factors["v"]
                factors["w"] = torch.rand(v.shape[0], c["rank"], generator=g) + 0.1
                factors["w"] /= factors["w"].sum(0, keepdim=True)
                factors["h"] = torch.rand(c["rank"], v.shape[1], generator=g) * v.mean() + 1e-6
        v = factors["v"]
        factors["w"], factors["h"] = beta_nmf(v, factors["w"], factors["h"], 1, c["beta"])
        if j == iterations - 1:
            model.dictionaries[k] = factors["w"]
        if j % LOG_EVERY and j != iterations - 1:  # the divergence costs as much as an update: not every step
            return Step({"source": model.names[k]}, {"activations": factors["h"].sum()})
        loss = beta_divergence(v, factors["w"] @ factors["h"], c["beta"]) / v.numel()
        return Step({"source": model.names[k], "divergence": loss.item()}, {"divergence": loss},
                    postfix={"source": model.names[k], "divergence": f"{loss.item():.3e}"})

    def save(done: int) -> None:
        model.config.update(trained_steps=done, paired_items=0)
        save_baseline(model, out)

    return loop.run(step, save=save, at_checkpoint=lambda done, records: done == loop.steps,
                    extra_state=lambda: {"w": factors["w"], "h": factors["h"]})
