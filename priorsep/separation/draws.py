"""Langevin posterior draws started where the search ends.

The annealed search (:mod:`priorsep.separation.langevin`, mask space for every bundled set) finds a
high-density state of the posterior p(s | m) under the priors, a point estimate. Draws of that
posterior come from signal-space Langevin dynamics under the exact (Dirac) constraint
sum_k w_k s_k = m, run at the priors' smallest noise levels (from ``sigma`` down to the search's
``sigma_min``), started from the search's estimate: there the posterior is a stable mode and the
chains explore its width. To let draws fall in *other* modes where the priors allow them, the
search is restarted: ``restarts`` searches in all, the first the plain search, the others the same
annealing from ``restart_init``: ``"encoder"``, for a search that starts from an encoder
(``init="variational"``), the encoder's estimate of the mix at another alignment of its frame grid
(where the encoder is unsure the estimates differ); ``"noise"``: random mask logits, or random
sources in signal space; ``"same"``: the search's own start, only the generator's next random state
differs; ``"auto"`` (the default): ``"encoder"`` where the search starts from an encoder, else
``"noise"``. A short search from an encoder's start is far too short from random masks: on 64
held-out toy mixes the encoder restarts flag failures better (AUROC 0.745 against 0.663) and their
draws' mean beats the search (``benchmarks/results/speed/README.md``). A share
``restart_share`` of the chains start from the later restarts' estimates, in turn, the others from
the plain search's (:func:`chain_starts`): a restart that lands elsewhere makes the draws disagree
(low confidence) without pulling their mean far from the search's estimate when it is the one wrong.

What the draws are: samples of the posterior under the priors at noise level ``sigma_min`` (a
prior at sigma is the clean prior convolved with N(0, sigma^2 I); no last denoising step, which
would turn each draw into a posterior mean), by the unadjusted Langevin algorithm with step
eta = step_size * sigma^2 (a bias of order eta in the variance; the Gaussian tests bound it), within
the modes the restarts found, each weighted by its share of the chains, not by its posterior mass
(Langevin chains at small sigma do not cross between modes). Every draw meets the mix exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import ConfigError
from ..priors.io import PriorSet
from ..dsp.overlap_add import overlap_add
from .config import SamplerConfig
from .langevin import _anneal, _prior_threads, _project, _scores, anneal


RESTART_INITS = ("auto", "encoder", "noise", "same")


@dataclass(frozen=True)
class DrawSettings:
    """How posterior draws are made (see the module docstring). ``samples``: draws per mix;
    ``restarts``: searches whose estimates start the chains (the first is the plain search);
    ``sigma``: the chains' first noise level (0: 3 x the search's ``sigma_min``), down to
    ``sigma_min`` over ``levels`` geometric levels of ``steps`` Langevin steps each. ``restart_init``:
    where the restarts after the first start (one of :data:`RESTART_INITS`, see the module docstring);
    ``restart_share``: the share of the draws that start from them (:func:`chain_starts`)."""

    samples: int = 8
    restarts: int = 2
    sigma: float = 0.0
    levels: int = 3
    steps: int = 8
    restart_init: str = "auto"
    restart_share: float = 0.25

    def __post_init__(self):
        bad = [f"{name} >= 1 (got {value!r})" for name, value in
               (("samples", self.samples), ("restarts", self.restarts), ("levels", self.levels),
                ("steps", self.steps)) if not isinstance(value, int) or isinstance(value, bool) or value < 1]
        if self.sigma < 0:
            bad.append(f"sigma >= 0 (got {self.sigma})")
        if self.restart_init not in RESTART_INITS:
            bad.append(f"restart_init one of {RESTART_INITS} (got {self.restart_init!r})")
        if not 0 < self.restart_share < 1:
            bad.append(f"0 < restart_share < 1 (got {self.restart_share})")
        if self.restarts > self.samples:
            bad.append(f"restarts <= samples (got {self.restarts} > {self.samples}: a restart no draw starts from)")
        if bad:
            raise ConfigError("posterior draws need " + "; ".join(bad))


def chain_starts(draws: DrawSettings) -> list[int]:
    """The restart each draw's chain starts from: ``round(restart_share * samples)`` draws (at least
    one per later restart, at most all but one) cycle over restarts 1 .. R-1, the rest start from 0."""
    if draws.restarts == 1:
        return [0] * draws.samples
    later = min(max(round(draws.restart_share * draws.samples), draws.restarts - 1), draws.samples - 1)
    return [0] * (draws.samples - later) + [1 + j % (draws.restarts - 1) for j in range(later)]


def chain_config(config: SamplerConfig, draws: DrawSettings) -> SamplerConfig:
    """The draws' sampler: signal-space Langevin under the Dirac constraint from the given start,
    ``draws.levels`` levels from ``draws.sigma`` to ``config``'s ``sigma_min``, no denoising."""
    sigma_min = config.schedule.sigma_min
    sigma = draws.sigma or 3 * sigma_min
    if sigma < sigma_min:
        raise ConfigError(f"the draws' sigma {sigma} is below the search's sigma_min {sigma_min}")
    return config.updated(space="signal", init="variational", sigma_max=sigma, sigma_min=sigma_min,
                          n_levels=draws.levels, steps_per_level=draws.steps, denoise=False, n_chains=1,
                          constraint="dirac", predictor=False, polish_rounds=0, finish_steps=0)


def search_and_draw(priors: PriorSet, mixes: torch.Tensor, config: SamplerConfig, draws: DrawSettings,
                    generator: torch.Generator, init_fn=None, restart_fn=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``mixes (B, T)`` (T a multiple of ``priors.length_multiple``) -> ``(search (B, K, T), draws
    (S, B, K, T))``: the plain search's estimate (the first restart) and ``draws.samples`` posterior
    draws, each meeting its mix exactly. ``init_fn``: as for :func:`~.langevin.anneal`;
    ``restart_fn(mixes, n) -> (n, B, K, T)``: the starts of the ``n`` later restarts, needed for
    ``restart_init="encoder"``."""
    b, t = mixes.shape
    from_encoder = config.init == "variational" and restart_fn is not None
    mode = ("encoder" if from_encoder else "noise") if draws.restart_init == "auto" else draws.restart_init
    if mode == "encoder" and not from_encoder:
        raise ConfigError("restart_init='encoder' needs a search that starts from an encoder "
                          f"(init='variational'), got init={config.init!r}")
    starts = [anneal(priors, mixes, config, generator, init_fn=init_fn)]  # the plain search, its random state
    if mode == "encoder" and draws.restarts > 1:
        later = restart_fn(mixes, draws.restarts - 1)
        starts += [anneal(priors, mixes, config, generator, init_fn=lambda _, start=start: start) for start in later]
    else:
        restart = config if mode == "same" else config.updated(init="noise")
        starts += [anneal(priors, mixes, restart, generator, init_fn=init_fn) for _ in range(draws.restarts - 1)]
    s = draws.samples
    start = torch.stack([starts[r] for r in chain_starts(draws)]).reshape(s * b, len(priors), t)
    m = mixes.repeat(s, 1)  # draw-major: row j * B + i is draw j of mix i
    w = torch.tensor(priors.weights, dtype=mixes.dtype, device=mixes.device)
    with _prior_threads(len(priors)) as pool:
        scores = lambda x, sigma: _scores(priors, x, sigma, pool, config.score_precision == "bfloat16")  # noqa: E731
        chains = _anneal(priors, m, chain_config(config, draws), generator, False, scores, lambda _: start)
    chains = _project(chains, w, m)  # exactly on the plane (rounding of the projected steps accumulates)
    return starts[0], chains.reshape(s, b, len(priors), t)


def separate_with_draws(priors: PriorSet, mixes: torch.Tensor, config: SamplerConfig, draws: DrawSettings,
                        generator: torch.Generator, progress: bool = False,
                        init_fn=None, restart_fn=None) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`search_and_draw` for ``mixes (B, T)`` of any length: overlapping chunks of
    ``config.chunking.chunk`` samples cross-faded by overlap-add (a cross-fade of two draws that meet
    the mix meets it too). Returns ``(search (B, K, T), draws (S, B, K, T))``."""
    k, s = len(priors), draws.samples

    def chunk(x: torch.Tensor) -> torch.Tensor:  # (N, L) -> (N, (1 + S) K, L): the search, then the draws
        search, d = search_and_draw(priors, x, config, draws, generator, init_fn, restart_fn)
        return torch.cat([search, d.transpose(0, 1).reshape(x.shape[0], s * k, -1)], dim=1)

    c = config.chunking
    both = overlap_add(chunk, mixes, c.chunk, priors.length_multiple, c.batch, progress,
                       generator=generator, overlap=c.overlap)  # re-seeded per batch, as the plain search's
    b, t = mixes.shape
    return both[:, :k], both[:, k:].reshape(b, s, k, t).transpose(0, 1)
