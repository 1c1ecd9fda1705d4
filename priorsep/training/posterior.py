"""Training an amortised posterior (:class:`~priorsep.encoders.Encoder`) on mixtures
only, against frozen priors: by stochastic variational inference (Pyro ``Trace_ELBO``), or by the
wake update of reweighted wake-sleep, fitting q to the Langevin separator's estimates of mixtures
(``objective="teacher"``, data from :mod:`priorsep.training.teacher`).

Files for ``out = priors/toy/encoder``: ``encoder.pt`` + ``.json`` (the usable encoder),
``encoder.train.pt`` (encoder, optimiser, scheduler, step: to resume), ``encoder.log.jsonl``.
"""
from __future__ import annotations

import time
from pathlib import Path

import pyro
import torch
from tqdm.auto import tqdm

from .. import distributed
from ..checkpoint import append_log, atomic_torch_save, read_log, read_training_state, side_file, trim_log
from ..errors import ConfigError, NumericalError
from ..priors.io import PriorSet
from ..schedule import geometric_sigmas
from ..encoders import Encoder, save_encoder
from ..encoders.elbo import elbo, freeze
from .lr_schedule import cosine_decay

OBJECTIVES = {
    "elbo": "ELBO (Trace_ELBO) with frozen priors; mixtures only, no stems",
    "teacher": "log q of the Langevin separator's estimates (wake update of q); mixtures and priors only, no stems",
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
    """
    if objective not in OBJECTIVES:
        raise ConfigError(f"objective must be 'elbo' or 'teacher', got {objective!r}")
    state_path, log_path = side_file(out, ".train.pt"), side_file(out, ".log.jsonl")
    d = distributed.current()
    part = d.shard(batch_size)
    freeze(priors)
    sigmas = geometric_sigmas(sigma_start, sigma_end, steps).tolist()
    opt = torch.optim.Adam(encoder.parameters(), lr=lr)
    sched = cosine_decay(opt, steps)
    start = 0
    if state_path.is_file():
        state = read_training_state(state_path)
        encoder.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        start = int(state["step"])
        if d.is_main:
            trim_log(log_path, start)
    training = dict(steps=steps, batch_size=batch_size, lr=lr, sigma_start=sigma_start, sigma_end=sigma_end,
                    gamma_scale=gamma_scale, particles=particles, seed=seed, tie_scale=tie_scale,
                    objective=OBJECTIVES[objective],
                    mixtures=mixes.describe() if hasattr(mixes, "describe") else type(mixes).__name__)
    first = mixes[0]
    window = int((first[0] if objective == "teacher" else first).shape[-1])
    # the encoder separates long mixes in overlapped windows of the length it was trained on
    extra = dict(sources=list(priors.names), sample_rate=priors.sample_rate, window=window, training=training)
    earlier = list(encoder.config.get("training_history", []))
    if "training" in encoder.config:
        earlier.append(encoder.config["training"])
    if earlier:  # a further stage (--init): keep the record of the stages before it
        extra["training_history"] = earlier
    net = d.wrap(encoder)
    encoder.train()
    records: list[dict] = []
    t0 = time.time()
    bar = tqdm(range(start, steps), initial=start, total=steps, disable=quiet or not d.is_main, desc="train posterior")
    for step in bar:
        pyro.set_rng_seed(seed * 1_000_003 + step * d.world + d.rank)
        items = [mixes[step * batch_size + j] for j in range(batch_size)]
        sigma = sigmas[step]
        if objective == "elbo":
            batch = torch.stack(items)[part]  # (B, T)
            loss = -elbo(batch, priors, net, sigma, gamma_scale * sigma, particles, tie_scale) / batch.numel()
        else:
            batch, target = (torch.stack(x)[part] for x in zip(*items))  # (B, T), (B, K, T)
            loc, scale = net(batch)
            loss = -torch.distributions.Normal(loc, scale).log_prob(target).sum() / batch.numel()
        if not torch.isfinite(loss):
            raise NumericalError(f"non-finite {objective} objective at step {step}; lower --lr")
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(encoder.parameters(), 5.0)
        opt.step()
        sched.step()
        key = "elbo" if objective == "elbo" else "log_q"
        rec = {"step": step + 1, "sigma": sigma, key: -d.mean(loss.item()), "seconds": round(time.time() - t0, 2)}
        records.append(rec)
        bar.set_postfix({key: f"{rec[key]:.3f}", "sigma": f"{sigma:.3f}"})
        done = step + 1
        if done % checkpoint_every == 0 or done == steps:
            if d.is_main:
                append_log(log_path, records)  # log first, state last (see append_log)
                save_encoder(encoder, out, {**extra, "trained_steps": done, "sigma": sigma})
                atomic_torch_save({"model": encoder.state_dict(), "optimizer": opt.state_dict(),
                                   "scheduler": sched.state_dict(), "step": done}, state_path)
            d.barrier()
            records = []
    encoder.eval()
    return read_log(log_path)
