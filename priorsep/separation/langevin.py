"""Annealed Langevin separation (after Jayaram & Thickstun 2020, "BASIS").

Sources s (batch, K, T) follow, at each noise level sigma_i of a geometric schedule, Langevin
dynamics on  sum_k log p_k(s_k | sigma_i) + log p(m | s)  with step eta_i = step_size * sigma_i^2:

* ``constraint="gaussian"``: log p(m | s) = -|sum_k w_k s_k - m|^2 / (2 gamma_i^2), gamma_i = c sigma_i;
* ``constraint="dirac"`` (default): sum_k w_k s_k = m exactly. Instead of solving for the last
  source (which then takes the noise of all others and needs its own step size) the whole
  Langevin increment, drift and noise, is projected onto the constraint plane {sum_k w_k d_k = 0}.
  That is exact Langevin dynamics for the posterior restricted to the plane, symmetric in the
  sources.

Options: a reverse-diffusion (predictor) step between levels, several chains per mixture in one
batch with the highest-posterior-density chain kept (at ``select_below`` or at the end), and a
last Tweedie step s + sigma_L^2 * score that removes the remaining noise.

``space="mask"`` runs the same annealing on the logits of soft masks of the mixture's STFT
instead of on the signals (:mod:`priorsep.separation.mask_space`): the constraint holds by
construction and sources trade partials in one move. On the toy data it is what separates.

``polish_rounds > 0`` follows either search with swap-and-refine rounds
(:mod:`priorsep.separation.polish`): pair swaps of the estimate's slots, each refined by a short
mask search and signal-space Langevin before the densities rate it, undo the wrong modes that the
search ends in with peaked priors (the bundled WaveNets); ``polish_split`` adds a hard frequency
split to each round's candidates, for blends of stationary sources, and ``polish_split_swap`` the
split of the round's best swap after its refinement, refined again (it removes the contamination a
right swap inherits, which peaked priors punish more than a wrong assignment). ``finish_steps > 0`` refines the final
estimate once more the same way with that many signal-space steps per level: the candidates'
short refinement is enough to rank them, a longer one removes more of the winner's contamination.
``score_precision="bfloat16"`` computes the sampler's scores under CPU autocast; the densities that
rate candidates stay float32.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import torch
from tqdm.auto import tqdm

from ..mixing import minimum_norm_split
from ..mixing import mix as mix_sources
from ..priors.io import PriorSet
from ..schedule import geometric_sigmas
from .mask_space import anneal_masks, fitted_window
from ..dsp.overlap_add import chunk_starts, overlap_add
from .polish import hard_frequency_split, polish
from ..errors import ConfigError, NumericalError
from .config import SamplerConfig


def _project(d: torch.Tensor, w: torch.Tensor, target: torch.Tensor | float = 0.0) -> torch.Tensor:
    """Orthogonal projection of ``d (B, K, T)`` onto the plane sum_k w_k d_k = ``target (B, T)``."""
    residual = mix_sources(d, w.tolist()) - target
    return d - w[:, None] * (residual[:, None] / (w**2).sum())


def _each_prior(priors: PriorSet, fn, pool: ThreadPoolExecutor | None) -> list:
    """``[fn(prior_k, k) for each k]``, one prior per thread of ``pool`` (in turn without one)."""
    return list((pool.map if pool is not None else map)(fn, priors.priors, range(len(priors))))


def _scores(priors: PriorSet, s: torch.Tensor, sigma: float, pool: ThreadPoolExecutor | None = None,
            bfloat16: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-source scores ``(B, K, T)`` and log densities ``(B, K)``; one prior per thread of ``pool``.
    ``bfloat16``: the priors run under CPU autocast (results back in ``s``'s dtype)."""
    def one(p, k: int):
        with torch.autocast(s.device.type, dtype=torch.bfloat16, enabled=bfloat16):  # thread-local: in the worker
            g, lp = p.score(s[:, k], sigma)
        return g.to(s.dtype), lp.to(s.dtype)

    outs = _each_prior(priors, one, pool)
    return torch.stack([g for g, _ in outs], 1), torch.stack([lp for _, lp in outs], 1)


def _log_densities(priors: PriorSet, s: torch.Tensor, sigma: float, pool: ThreadPoolExecutor | None = None
                   ) -> torch.Tensor:
    """Per-source log densities ``(B, K)`` of ``s (B, K, T)``, without the scores' backward pass."""
    def one(p, k: int):
        with torch.no_grad():
            return p.log_prob(s[:, k], sigma)

    return torch.stack(_each_prior(priors, one, pool), 1)


@contextmanager
def _prior_threads(n_priors: int):
    """A pool that runs the priors side by side, each single-threaded.

    The priors' convolutions are small; on the 2-core dev machine four toy flow scores of 16384
    samples took 0.24 s this way against 0.39 s one prior at a time on two threads (and 0.4 s
    against 2 s while another process loaded the cores).
    torch's thread count is process-global, so it is restored afterwards.
    """
    n = min(n_priors, torch.get_num_threads())
    if n <= 1:
        yield None
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(n) as pool:
            yield pool
    finally:
        torch.set_num_threads(before)


def anneal(
    priors: PriorSet,
    mixes: torch.Tensor,
    config: SamplerConfig,
    generator: torch.Generator,
    progress: bool = False,
    init_fn=None,
) -> torch.Tensor:
    """Sample sources for ``mixes (B, T)``; returns the best chain per mix, ``(B, K, T)``.

    ``T`` must be a multiple of ``priors.length_multiple``. ``init_fn(mixes) -> (B, K, T)``: the
    starting sources for ``config.init == "variational"``.
    """
    if config.init == "variational" and init_fn is None:
        raise ConfigError("init='variational' needs an encoder (the prior set's, or encoder=STEM)")
    with _prior_threads(len(priors)) as pool:
        scores = lambda s, sigma: _scores(priors, s, sigma, pool, config.score_precision == "bfloat16")  # noqa: E731
        densities = lambda s, sigma: _log_densities(priors, s, sigma, pool)  # noqa: E731
        if config.space == "mask":
            start = init_fn(mixes) if config.init == "variational" else None
            est = anneal_masks(priors, mixes, config, generator, progress, scores, densities, start)
        else:
            est = _anneal(priors, mixes, config, generator, progress, scores, init_fn)
        if config.polish.rounds:
            w = torch.tensor(priors.weights, dtype=mixes.dtype, device=mixes.device)
            split = None
            if config.polish.split:
                window = fitted_window(config.mask.n_fft, config.mask.hop, mixes.shape[-1])
                split = lambda s, m: hard_frequency_split(s, m, w, *window)  # noqa: E731
            est = polish(mixes, est, w, rounds=config.polish.rounds, n_swaps=config.polish.swaps,
                         refine=_refiner(priors, config, generator, scores, densities), log_densities=densities,
                         sigma=config.schedule.sigma_min, split=split,
                         split_swap=config.polish.split_swap, progress=progress)
        if config.experimental.finish_steps:
            finish = config.updated(polish_signal_steps=config.experimental.finish_steps)
            est = _refiner(priors, finish, generator, scores, densities)(est, mixes)
        return est


def _refiner(priors, config: SamplerConfig, generator, scores, densities):
    """``refine(sources (N, K, T), mixes (N, T))`` for :func:`~.polish.polish`: a mask search started
    from the sources (it can still trade partials between them), then signal-space Langevin (it can
    remove what the mask family cannot: the part of a partial that another source's overlaps)."""
    common = dict(sigma_max=config.polish.sigma, n_levels=config.polish.levels, init="variational", n_chains=1,
                  constraint="dirac", predictor=False, polish_rounds=0, finish_steps=0)
    mask = (config.updated(**common, space="mask", steps_per_level=config.polish.mask_steps, mask_assign=False)
            if config.polish.mask_steps else None)
    signal = config.updated(**common, space="signal", steps_per_level=config.polish.signal_steps, denoise=True)

    def refine(s, mixes):
        if mask is not None:
            s = anneal_masks(priors, mixes, mask, generator, False, scores, densities, s)
        return _anneal(priors, mixes, signal, generator, False, scores, lambda _: s)

    return refine


def _anneal(priors, mixes, config, generator, progress, scores, init_fn=None) -> torch.Tensor:
    """The sampler proper; ``scores(s, sigma)`` gives the per-source scores and log densities."""
    b, t = mixes.shape
    k, c = len(priors), config.experimental.n_chains
    w = torch.tensor(priors.weights, dtype=mixes.dtype, device=mixes.device)
    m = mixes.repeat_interleave(c, 0)  # (B*C, T), chains of one mix adjacent
    sigmas = geometric_sigmas(config.schedule.sigma_max, config.schedule.sigma_min, config.schedule.n_levels).tolist()

    def noise() -> torch.Tensor:
        return torch.randn(b * c, k, t, generator=generator, dtype=mixes.dtype, device=mixes.device)

    if config.init == "variational":
        on_plane = init_fn(mixes).to(mixes.dtype).repeat_interleave(c, 0)
        if config.experimental.constraint == "dirac":
            on_plane = _project(on_plane, w, m)
    else:
        on_plane = minimum_norm_split(m, priors.weights)
    if config.experimental.constraint == "dirac":  # every init starts on the constraint plane
        s = on_plane + _project(sigmas[0] * noise(), w)
    else:
        s = (0.0 if config.init == "noise" else on_plane) + sigmas[0] * noise()

    def log_posterior(s, lp, gamma2):
        """Unnormalised log p(s | m) per chain, ``(B*C,)``."""
        if config.experimental.constraint == "gaussian":
            return lp.sum(1) - (mix_sources(s, w.tolist()) - m).pow(2).sum(-1) / (2 * gamma2)
        return lp.sum(1)

    def keep_best(s, lp, gamma2):
        best = log_posterior(s, lp, gamma2).view(b, c).argmax(1)
        return s.view(b, c, k, t)[torch.arange(b, device=s.device), best]

    def posterior_score(s, sigma, gamma2):
        g, lp = scores(s, sigma)
        if config.experimental.constraint == "gaussian":
            g = g - w[:, None] * (mix_sources(s, w.tolist()) - m)[:, None] / gamma2
        return g, lp

    def move(s, drift_scale, g, noise_var):
        step = drift_scale * g + math.sqrt(noise_var) * noise()
        return s + (_project(step, w) if config.experimental.constraint == "dirac" else step)

    n_predict = len(sigmas) - 1 if config.experimental.predictor else 0
    bar = tqdm(total=len(sigmas) * config.schedule.steps_per_level + n_predict, disable=not progress, desc="langevin",
               leave=False)
    for i, sigma in enumerate(sigmas):
        gamma2 = (config.experimental.gamma_scale * sigma) ** 2
        if config.experimental.predictor and i > 0:  # ancestral reverse-diffusion step from sigmas[i-1] down to sigma
            prev = sigmas[i - 1]
            g, lp = posterior_score(s, prev, (config.experimental.gamma_scale * prev) ** 2)
            s = move(s, prev**2 - sigma**2, g, prev**2 - sigma**2)
            bar.update()
        eta = config.signal.step_size * sigma**2
        for _ in range(config.schedule.steps_per_level):
            g, lp = posterior_score(s, sigma, gamma2)
            s = move(s, eta, g, 2 * eta)
            bar.update()
        if not torch.isfinite(s).all():
            raise NumericalError(
                f"Langevin diverged at sigma={sigma:.3g} (step_size={config.signal.step_size}, "
                f"constraint={config.experimental.constraint}); "
                "use a smaller step_size"
            )
        if c > 1 and sigma <= config.experimental.select_below:  # stop exploring: refine the best chain only
            s, m, c = keep_best(s, scores(s, sigma)[1], gamma2), mixes, 1
    bar.close()

    g, lp = scores(s, sigmas[-1])
    if config.signal.denoise:  # Tweedie: E[x | x + sigma eps] = x + sigma^2 score
        s = s + sigmas[-1] ** 2 * g
        if config.experimental.constraint == "dirac":
            s = _project(s, w, m)
    return keep_best(s, lp, gamma2)


def separate_tensor(
    priors: PriorSet, mixes: torch.Tensor, config: SamplerConfig, generator: torch.Generator, progress: bool = False,
    init_fn=None,
) -> torch.Tensor:
    """Separate ``mixes (B, T)`` of any length into ``(B, K, T)``: chunks of ``config.chunking.chunk``
    samples overlapping by ``config.chunking.overlap``, ``config.chunking.batch`` sampled together,
    cross-faded by overlap-add.
    ``progress``: the sampler's bar for a single chunk, a bar over chunks otherwise. Batches after the
    first re-seed ``generator`` (:func:`~priorsep.dsp.overlap_add.overlap_add`), so a long file can be
    resumed per batch with the same output."""
    c = config.chunking
    n_chunks = len(chunk_starts(mixes.shape[-1], c.chunk, priors.length_multiple, c.overlap)[1]) * mixes.shape[0]
    inner = progress and n_chunks <= c.batch
    return overlap_add(lambda x: anneal(priors, x, config, generator, inner, init_fn), mixes, c.chunk,
                       priors.length_multiple, c.batch, progress and not inner, generator=generator, overlap=c.overlap)
