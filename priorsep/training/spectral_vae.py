"""Training the spectral VAE priors (:class:`priorsep.baselines.spectral_vae.SpectralVAESeparator`): source
k's VAE from windows of solo crops of source k alone, by the VAE's loss (:meth:`SpectralVAE.loss
<priorsep.baselines.spectral_vae.SpectralVAE.loss>`: β-divergence of the reconstruction plus ``kl`` times
the KL term) with Adam and a one-cycle learning rate, one source after the other, in the library's
resumable loop (:class:`~priorsep.training.loop.ResumableTraining`).

With ``steps`` updates per source, steps ``k * steps .. (k + 1) * steps - 1`` train source k. The loop
checkpoints only where one source ends, so a resumed run starts the next source afresh, as an
uninterrupted run does (each source's batches and noise come from its own seeded generator); the usable
model is written once every VAE is trained.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from ..baselines.io import save_baseline
from ..baselines.spectral_vae import SpectralVAESeparator
from ..errors import DataError
from .loop import ResumableTraining, Step
from .nmf import SILENT, solo_magnitudes

LOG_EVERY = 50  # steps between logged losses (and each source's last step)


def solo_shapes(model: SpectralVAESeparator, crops, n: int) -> torch.Tensor:
    """The non-silent windows of the first ``n`` items of ``crops`` (solo audio), each summing to 1: ``(N, D)``."""
    c = model.config
    v = solo_magnitudes(crops, n, c["n_fft"], c["hop"], c["context"])  # (D, windows)
    v = v[:, v.sum(0) > SILENT * c["context"]].T
    if len(v) == 0:
        raise DataError(f"no non-silent window in {n} solo crops; check the data")
    return v / v.sum(-1, keepdim=True)


def train_spectral_vae(model: SpectralVAESeparator, solo_sets: Sequence, out: str | Path, *, steps: int, crops: int,
                       batch: int = 256, lr: float = 1e-3, seed: int = 0, quiet: bool = False,
                       stop_after: int | None = None) -> list[dict]:
    """Train ``model.vaes[k]`` on ``crops`` items of ``solo_sets[k]`` (solo audio of source k, in ``model.names``
    order), ``steps`` updates of ``batch`` windows each; writes ``out`` (the model, at the end), ``out.train.pt``
    (resume state, at the end of each source) and ``out.log.jsonl``; ``stop_after``: return after that step
    (a time slice; rerun to resume). Returns the log's records."""
    if len(solo_sets) != len(model.names):
        raise DataError(f"spectral VAE priors need one solo set per source ({len(model.names)}), got {len(solo_sets)}")
    if steps < 10 or batch < 1:
        raise DataError(f"spectral VAE training needs steps >= 10 and batch >= 1, got {steps} and {batch}")
    c = model.config
    loop = ResumableTraining(out, steps=len(model.names) * steps, checkpoint_every=steps, quiet=quiet,
                             stop_after=stop_after, desc="train spectral vae",
                             nonfinite="non-finite VAE loss at step {step}; lower --lr")
    loop.resume({"model": model})
    state: dict = {}
    warmup = max(0.05, 2.5 / steps)  # the one-cycle schedule's rising part: 5 %, at least 2 steps

    def step(i: int) -> Step:
        k, j = divmod(i, steps)
        vae = model.vaes[k]
        if j == 0:  # a new source: its windows, optimiser and generator
            torch.manual_seed(seed * 1000 + k)
            optimizer = torch.optim.Adam(vae.parameters(), lr=lr)
            schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps, pct_start=warmup)
            state.update(shapes=solo_shapes(model, solo_sets[k], crops), optimizer=optimizer, schedule=schedule,
                         generator=torch.Generator().manual_seed(seed * 1000 + k))
        shapes, g = state["shapes"], state["generator"]
        u = shapes[torch.randint(len(shapes), (batch,), generator=g)]
        loss = vae.loss(u, c["beta"], c["kl"], noise=torch.randn(batch, c["latent"], generator=g)).mean()

        def update() -> None:
            state["optimizer"].zero_grad()
            loss.backward()
            state["optimizer"].step()
            state["schedule"].step()

        record = {"source": model.names[k]}
        if j % LOG_EVERY == 0 or j == steps - 1:
            record["loss"] = round(loss.item(), 3)
        return Step(record, {"loss": loss}, update, postfix={"source": model.names[k], "loss": f"{loss.item():.1f}"})

    def save(done: int) -> None:
        model.config.update(trained_steps=done, paired_items=0)
        save_baseline(model, out)

    return loop.run(step, save=save, at_checkpoint=lambda done, records: done == loop.steps)
