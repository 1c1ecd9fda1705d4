"""Training a noise-conditioned prior on solo stems, resumable from its last checkpoint.

Files for ``--out priors/sine``: ``sine.pt`` + ``sine.json`` (the usable prior, refreshed at every
checkpoint), ``sine.train.pt`` (model + optimiser + step, to resume), ``sine.log.jsonl`` (losses).
"""
from __future__ import annotations

from pathlib import Path

import torch

from .. import distributed
from ..errors import ConfigError
from ..priors.base import Prior
from ..priors.io import save_prior
from ..schedule import sample_training_sigmas
from .loop import ResumableTraining, Step, descend
from .lr_schedule import cosine_decay


def train_prior(
    prior: Prior,
    dataset,
    out: str | Path,
    *,
    steps: int = 2500,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    checkpoint_every: int = 250,
    dsm_weight: float = 0.0,
    off_manifold: float = 0.0,
    quiet: bool = False,
) -> list[dict]:
    """Maximum likelihood on noised crops x + sigma * eps, sigma log-uniform on the prior's range,
    plus ``dsm_weight`` times denoising score matching, mean (sigma * score + eps)^2. Priors with a
    ``denoising_loss`` (the denoiser family) are trained by that loss alone.

    Maximum likelihood alone gives discriminative densities whose *gradients* are poor: the
    Tweedie denoiser x + sigma^2 * score of such a flow gains only 1-4 dB and the Langevin
    sampler, which only sees the score, cannot find the sources. The DSM term (a second-order
    backward pass, ~2x the cost per step) trains the score directly.

    ``off_manifold`` (experimental; priors with an ``off_manifold_offset(clean, sigma, generator,
    fraction)`` hook, i.e. :class:`priorsep.experimental.DenoiserPrior`): the fraction of each batch
    whose input the hook offsets (the denoiser: the source at a reduced level plus generic pitched
    tones), still denoised to the clean source: what the separator's mixture-like states need.

    ``dataset[i]`` must return a ``(length,)`` tensor deterministic in ``i``; batch ``b`` uses items
    ``b * batch_size ...`` and its noise comes from a generator seeded by (seed, b), so a resumed run
    sees the same data and noise as an uninterrupted one (no RNG state needs saving).

    Under ``torchrun`` (:mod:`priorsep.distributed`) each of the N processes takes a contiguous
    ``batch_size / N`` shard of every global batch and DistributedDataParallel averages the
    gradients: the same updates as one process, N times the throughput. Rank 0 writes the
    checkpoints and the log.
    Returns the log records ``{"step", "loss", "seconds"}`` (loss in nats per sample).
    """
    loop = ResumableTraining(out, steps=steps, checkpoint_every=checkpoint_every, quiet=quiet,
                             desc=f"train {prior.name}")
    sigma_min, sigma_max = float(prior.config["sigma_min"]), float(prior.config["sigma_max"])
    denoiser = hasattr(prior, "denoising_loss")  # trained by denoising alone (no density to maximise)
    if off_manifold and not (denoiser and hasattr(prior, "off_manifold_offset")):
        raise ConfigError(f"off_manifold training needs a prior with an off_manifold_offset hook (the experimental "
                          f"denoiser prior), not {prior.kind!r}")
    if not 0 <= off_manifold <= 1:
        raise ConfigError(f"off_manifold is a fraction of each batch in [0, 1], got {off_manifold}")

    d = distributed.current()
    part = d.shard(batch_size)
    prior.to(d.device)
    opt = torch.optim.Adam(prior.parameters(), lr=lr)
    sched = cosine_decay(opt, steps)
    loop.resume({"model": prior, "optimizer": opt, "scheduler": sched}, d.device)
    prior.train()

    def batch(step: int, rows: slice = part):
        """``rows`` (default: this rank's shard) of the step's global batch: clean crops, sigmas, noise,
        off-manifold offsets (``None`` without off-manifold training)."""
        g = torch.Generator().manual_seed(seed * 1_000_003 + step)
        x = torch.stack([dataset[step * batch_size + j] for j in range(batch_size)])
        sigma = sample_training_sigmas(batch_size, sigma_min, sigma_max, generator=g)
        eps = torch.randn(x.shape, generator=g)
        offset = prior.off_manifold_offset(x, sigma, g, off_manifold)[rows].to(d.device) if off_manifold else None
        return x[rows].to(d.device), sigma[rows].to(d.device), eps[rows].to(d.device), offset

    if loop.start == 0 and d.enabled:
        # Data-dependent initialisation (ActNorm) on the *global* first batch, identically on every
        # rank and exactly as a single process would do it, before DDP copies rank 0's parameters.
        with torch.no_grad():
            x, sigma, eps, _ = batch(0, slice(None))
            prior.log_prob(x + sigma[:, None] * eps, sigma)
    if denoiser and d.enabled:  # DDP's broadcast of rank 0's parameters, done by hand
        for p in prior.parameters():
            torch.distributed.broadcast(p.data, 0)
    model = prior if denoiser else d.wrap(prior)

    def step(i: int) -> Step:
        x, sigma, eps, offset = batch(i)
        if denoiser:
            loss = prior.denoising_loss(x, sigma, eps, offset).mean()
            rec = {"denoising": d.mean(loss.item())}
        else:
            noisy = (x + sigma[:, None] * eps).requires_grad_(dsm_weight > 0)
            lp = model(noisy, sigma)
            nll = -(lp / x.shape[1]).mean()
            loss = nll
            rec = {"nll": d.mean(nll.item())}
            if dsm_weight > 0:
                (score,) = torch.autograd.grad(lp.sum(), noisy, create_graph=True)
                dsm = (sigma[:, None] * score + eps).pow(2).mean()
                loss = loss + dsm_weight * dsm
                rec["dsm"] = d.mean(dsm.item())
        rec["loss"] = d.mean(loss.item())
        return Step(rec, {"loss": loss}, postfix={"loss": f"{rec['loss']:.3f}"},
                    update=lambda: descend(loss, opt, prior.parameters(), sched, clip=5.0, average=denoiser))

    def save(done: int) -> None:
        prior.config["trained_steps"] = done
        save_prior(prior, out)

    log = loop.run(step, save=save)
    prior.eval()
    return log
