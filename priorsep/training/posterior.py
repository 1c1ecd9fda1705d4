"""Training an amortised posterior (:class:`~priorsep.encoders.Encoder`) on mixtures
only, against frozen priors: by stochastic variational inference (Pyro ``Trace_ELBO``), or by the
wake update of reweighted wake-sleep, fitting q to the Langevin separator's estimates of mixtures
(``objective="teacher"``, data from :mod:`priorsep.training.teacher`), or, for a mask encoder's
per-bin scale, by the mask-space ELBO with its means fixed (``objective="mask-elbo"``).

Files for ``out = priors/toy/encoder``: ``encoder.pt`` + ``.json`` (the usable encoder),
``encoder.train.pt`` (encoder, optimiser, scheduler, step: to resume), ``encoder.log.jsonl``.
"""
from __future__ import annotations

from pathlib import Path

import pyro
import torch

from .. import distributed
from ..errors import ConfigError
from ..priors.io import PriorSet
from ..schedule import geometric_sigmas
from ..encoders import Encoder, save_encoder
from ..encoders.elbo import elbo, freeze, mask_elbo
from .loop import ResumableTraining, Step, descend, stage_history
from .lr_schedule import cosine_decay

OBJECTIVES = {
    "elbo": "ELBO (Trace_ELBO) with frozen priors; mixtures only, no stems",
    "teacher": "log q of the Langevin separator's estimates (wake update of q); mixtures and priors only, no stems",
    "mask-elbo": "mask-space ELBO of the per-bin logit scale, means fixed, frozen priors; mixtures only, no stems",
}


def train_posterior(
    priors: PriorSet,
    encoder: Encoder,
    mixes,
    out: str | Path,
    *,
    steps: int = 2000,
    batch_size: int = 8,
    lr: float = 1e-3,
    sigma_start: float = 0.5,
    sigma_end: float = 0.02,
    gamma_scale: float = 0.5,
    particles: int = 1,
    seed: int = 0,
    checkpoint_every: int = 200,
    quiet: bool = False,
    objective: str = "elbo",
    tie_scale: bool = False,
) -> list[dict]:
    """Maximise the ELBO of mixtures ``mixes[i]`` (``(T,)`` tensors, deterministic in ``i``; batch
    ``b`` uses items ``b * batch_size ...``) with the priors frozen.

    The priors' noise level is annealed geometrically from ``sigma_start`` to ``sigma_end`` over
    the run (:func:`priorsep.schedule.geometric_sigmas`), the likelihood's std is
    ``gamma = gamma_scale * sigma``: early steps see smooth priors and a loose mix constraint, late
    ones the sharp priors. Under ``torchrun`` each process takes a shard of every batch and
    DistributedDataParallel averages the gradients; rank 0 writes. Returns the log records
    ``{"step", "sigma", "elbo" (nats per sample), "seconds"}``.

    ``objective="teacher"``: ``mixes[i]`` are pairs ``(mix (T,), teacher estimates (K, T))`` (never
    ground-truth stems) and each step maximises log q(estimates | mix), the wake update of q; the
    records carry ``"log_q"`` (nats per sample) instead of ``"elbo"``, and sigma plays no part.
    ``tie_scale``: q's std is sigma during the ELBO (see :func:`~priorsep.encoders.elbo.guide`).
    ``objective="mask-elbo"``: the per-bin logit scale of a mask encoder by
    :func:`~priorsep.encoders.elbo.mask_elbo` at the priors' sigma (no likelihood: the draws meet the
    mix), the means fixed; gamma plays no part.
    """
    if objective not in OBJECTIVES:
        raise ConfigError(f"objective must be one of {sorted(OBJECTIVES)}, got {objective!r}")
    if objective == "mask-elbo" and getattr(encoder, "scale_head", None) is None:
        raise ConfigError("objective 'mask-elbo' trains a mask encoder's per-bin scale; give it one "
                          "(priorsep.encoders.with_bin_scale, or train-posterior --mask-scale)")
    loop = ResumableTraining(out, steps=steps, checkpoint_every=checkpoint_every, quiet=quiet, desc="train posterior",
                             nonfinite=f"non-finite {objective} objective at step {{step}}; lower --lr")
    d = distributed.current()
    part = d.shard(batch_size)
    freeze(priors)
    sigmas = geometric_sigmas(sigma_start, sigma_end, steps).tolist()
    opt = torch.optim.Adam(encoder.parameters(), lr=lr)
    sched = cosine_decay(opt, steps)
    loop.resume({"model": encoder, "optimizer": opt, "scheduler": sched})
    training = dict(steps=steps, batch_size=batch_size, lr=lr, sigma_start=sigma_start, sigma_end=sigma_end,
                    gamma_scale=gamma_scale, particles=particles, seed=seed, tie_scale=tie_scale,
                    objective=OBJECTIVES[objective],
                    mixtures=mixes.describe() if hasattr(mixes, "describe") else type(mixes).__name__)
    first = mixes[0]
    window = int((first[0] if objective == "teacher" else first).shape[-1])
    # the encoder separates long mixes in overlapped windows of the length it was trained on
    extra = dict(sources=list(priors.names), sample_rate=priors.sample_rate, window=window, training=training)
    earlier = stage_history(encoder.config)
    if earlier:  # a further stage (--init): keep the record of the stages before it
        extra["training_history"] = earlier
    # the mask-space ELBO calls a method other than forward, which DDP cannot follow: its gradients
    # are averaged by hand (descend(average=True)) and the encoder is not wrapped
    net = encoder if objective == "mask-elbo" else d.wrap(encoder)
    encoder.train()
    key = "log_q" if objective == "teacher" else "elbo"

    def step(i: int) -> Step:
        pyro.set_rng_seed(seed * 1_000_003 + i * d.world + d.rank)
        items = [mixes[i * batch_size + j] for j in range(batch_size)]
        sigma = sigmas[i]
        average = False
        if objective == "elbo":
            batch = torch.stack(items)[part]  # (B, T)
            loss = -elbo(batch, priors, net, sigma, gamma_scale * sigma, particles, tie_scale) / batch.numel()
        elif objective == "mask-elbo":
            batch = torch.stack(items)[part]
            loss = -mask_elbo(batch, priors, encoder, sigma, particles) / batch.numel()
            average = True
        else:
            batch, target = (torch.stack(x)[part] for x in zip(*items))  # (B, T), (B, K, T)
            loc, scale = net(batch)
            loss = -torch.distributions.Normal(loc, scale).log_prob(target).sum() / batch.numel()
        rec = {"sigma": sigma, key: -d.mean(loss.item())}
        return Step(rec, {objective: loss}, postfix={key: f"{rec[key]:.3f}", "sigma": f"{sigma:.3f}"},
                    update=lambda: descend(loss, opt, encoder.parameters(), sched, clip=5.0, average=average))

    def save(done: int) -> None:
        save_encoder(encoder, out, {**extra, "trained_steps": done, "sigma": sigmas[done - 1]})

    log = loop.run(step, save=save)
    encoder.eval()
    return log
