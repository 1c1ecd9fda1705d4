"""Annealed separation in the mixture's mask space (``SamplerConfig(space="mask")``).

Each source is a soft share of the mixture's STFT,

    s_k = istft(pi_k * STFT(m)) / w_k,    pi = softmax over sources of logits theta (B, K, F, N),

so every state meets the mixture exactly (sum_k w_k s_k = m) and a source can only take what the
mixture holds. Moving a partial from one source to another is then a move of one logit, where the
signal-space sampler has to fade it out of one source and into another through states that both
priors find improbable. That is the toy data's failure in signal space: each prior commits to a
pitch, often another source's, and cannot trade it back (``benchmarks/results/mask_space/``).

At each noise level sigma_i the logits climb sum_k log p_k(s_k | sigma_i): the prior scores are
taken at a freshly noised point x = s + sigma_i eps, and the step on s is the denoising residual
s - (x + sigma_i^2 score(x)) (score distillation: the same direction as -sigma_i^2 score in
expectation, with less variance for priors that denoise well), pulled back to the logits through
the STFT and the softmax, preconditioned by Adam (``mask_distill=False``: the plain step
-sigma_i^2 score(s), deterministic for deterministic priors). This is a stochastic annealed *search* for a
high-density state (a MAP estimate within the mask family), not a sampler of the posterior: there
is no injected noise beyond the prior evaluations. With Gaussian priors it converges to the
posterior mean (the Wiener split, which a constant mask represents); ``tests/`` pin that.

``mask_volume > 0`` (experimental) adds volume * (T - 1) log |s_k| to each source's log density:
with volume 1 the search maximises the posterior density of each source's level |s_k| and shape
s_k / |s_k| (the polar Jacobian |s|^(T-1)) instead of that of its samples. Densities of audio rise
as a signal gets quieter (band priors: +0.2 nats/sample at 0.7 x the level), so a MAP of the
samples drifts to quiet sources and hands their content to the prior that penalises it least; the
volume term moves estimates back to a typical level. Measured on band music
(``benchmarks/results/band_search/``): it keeps a start at the truth far better (10.6 dB against
6.5), but from the mixture it finds worse modes (1.3 dB against 3.4).
"""
from __future__ import annotations

from typing import Callable

import torch
from tqdm.auto import tqdm

from ..errors import ConfigError, NumericalError
from ..schedule import geometric_sigmas
from ..dsp.masks import masked_sources
from ..dsp.stft import stft
from .polish import LogDensities, slot_ratings

Scores = Callable[[torch.Tensor, float], tuple[torch.Tensor, torch.Tensor]]


#: The shortest mask window :func:`fitted_window` shrinks to (samples).
SHORTEST_WINDOW = 256


def fitted_window(n_fft: int, hop: int, t: int) -> tuple[int, int]:
    """The mask STFT's ``(n_fft, hop)`` for mixes of ``t`` samples: both halved together until half a
    window fits the mix (a window longer than the mix resolves nothing more), at most down to
    :data:`SHORTEST_WINDOW`. Shorter mixes are an error."""
    while n_fft // 2 >= t and n_fft // 2 >= SHORTEST_WINDOW:
        n_fft, hop = n_fft // 2, max(1, hop // 2)
    if t <= n_fft // 2:
        raise ConfigError(f"space='mask' needs mixes longer than {n_fft // 2} samples (half its shortest window, "
                          f"mask_n_fft {n_fft}), got {t}")
    return n_fft, hop


def initial_logits(mixes: torch.Tensor, weights: torch.Tensor, n_bins: int, n_frames: int, init: str,
                   generator: torch.Generator, estimates: torch.Tensor | None, n_fft: int, hop: int) -> torch.Tensor:
    """Logits ``(B, K, F, N)``. ``"mixture"``: pi_k = w_k^2 / |w|^2, the minimum-norm split
    s_k = w_k m / |w|^2 (for the mean mix: every source starts as m). ``"noise"``: random logits
    (standard normal). ``"variational"``: the ratio mask of ``estimates (B, K, T)``."""
    b, k = mixes.shape[0], weights.shape[0]
    if init == "mixture":
        return torch.log(weights**2).to(mixes.dtype)[None, :, None, None].expand(b, k, n_bins, n_frames).clone()
    if init == "noise":
        return torch.randn(b, k, n_bins, n_frames, generator=generator, dtype=mixes.dtype, device=mixes.device)
    if estimates is None:
        raise ConfigError("init='variational' needs the encoder's estimates")
    mag = stft(estimates * weights[:, None], n_fft, hop).abs()
    return torch.log(mag + 1e-6 * mag.amax((1, 2, 3), keepdim=True) + 1e-12)


def anneal_masks(priors, mixes: torch.Tensor, config, generator: torch.Generator, progress: bool, scores: Scores,
                 log_densities: LogDensities, init_estimates: torch.Tensor | None = None) -> torch.Tensor:
    """Separate ``mixes (B, T)`` in mask space; returns the best chain per mix, ``(B, K, T)``.

    ``config``: a checked :class:`~priorsep.separation.config.SamplerConfig` (its ``schedule``,
    ``mask`` part, ``init`` and the experimental ``n_chains`` / ``select_below`` are read).
    ``scores(s (N, K, T), sigma)`` returns the per-source scores ``(N, K, T)`` and log densities
    ``(N, K)``; ``log_densities(s, sigma)`` the log densities alone (no backward pass), for ranking.
    ``init_estimates (B, K, T)``: the starting sources for ``init="variational"``.
    """
    b, t = mixes.shape
    n_fft, hop = fitted_window(config.mask.n_fft, config.mask.hop, t)
    c = config.experimental.n_chains
    w = torch.tensor(priors.weights, dtype=mixes.dtype, device=mixes.device)
    m = mixes.repeat_interleave(c, 0)  # chains of one mix adjacent
    spec = stft(m, n_fft, hop)
    est = None if init_estimates is None else init_estimates.to(mixes.dtype).repeat_interleave(c, 0)
    theta = initial_logits(m, w, spec.shape[-2], spec.shape[-1], config.init, generator, est, n_fft, hop)
    theta.requires_grad_(True)
    opt = torch.optim.Adam([theta], lr=config.mask.lr)
    sources = lambda: masked_sources(theta, spec, w, n_fft, hop, t)  # noqa: E731

    sigmas = geometric_sigmas(config.schedule.sigma_max, config.schedule.sigma_min, config.schedule.n_levels).tolist()
    bar = tqdm(total=len(sigmas) * config.schedule.steps_per_level, disable=not progress, desc="mask search",
               leave=False)
    for sigma in sigmas:
        for _ in range(config.schedule.steps_per_level):
            with torch.enable_grad():  # callers separate under no_grad; the logits need their gradient
                s = sources()
            if config.mask.distill:  # the denoising residual s - D(s + sigma eps), see the module docstring
                x = s.detach() + sigma * torch.randn(s.shape, generator=generator, dtype=s.dtype, device=s.device)
                step = s.detach() - (x + sigma**2 * scores(x, sigma)[0])
            else:  # plain ascent on the smoothed log density at s
                step = -(sigma**2) * scores(s.detach(), sigma)[0]
            if config.experimental.volume:  # ascent on volume * (T - 1) log |s_k| too, see the module docstring
                sd = s.detach()
                energy = sd.pow(2).sum(-1, keepdim=True).clamp_min(1e-20)
                step = step - sigma**2 * config.experimental.volume * (t - 1) * sd / energy
            opt.zero_grad()
            with torch.enable_grad():
                s.backward(step)
            opt.step()
            bar.update()
        if not torch.isfinite(theta).all():
            raise NumericalError(f"mask search diverged at sigma={sigma:.3g} (mask_lr={config.mask.lr}); "
                                 "use a smaller mask_lr")
        if c > 1 and sigma <= config.experimental.select_below:  # stop exploring: refine the best chain only
            theta, spec, c, opt = _keep_best_chain(theta, spec, opt, sources(), log_densities, sigma, b, c)
            sources = lambda: masked_sources(theta, spec, w, n_fft, hop, t)  # noqa: E731
    bar.close()
    with torch.no_grad():
        if config.mask.assign:
            theta = reassign(theta.detach(), sources(), w, log_densities, sigmas[-1])
        s = sources()
        return s if c == 1 else s[_best_chains(s, log_densities, sigmas[-1], b, c)]


def reassign(theta: torch.Tensor, s: torch.Tensor, weights: torch.Tensor, log_densities: LogDensities,
             sigma: float) -> torch.Tensor:
    """Logits ``theta (B, K, F, N)`` with their source slots permuted so that the estimates
    ``s (B, K, T)`` go to the priors that rate them highest in total: a linear assignment over the
    K x K matrix of log p_j(estimate k moved to slot j | sigma). It undoes whole-source swaps
    (the toy sine and triangle, measured swapped with every other source right), which no local
    move can: every state in between is a blend that both priors reject."""
    from scipy.optimize import linear_sum_assignment

    rated = slot_ratings(s, weights, log_densities, sigma)  # rated[:, j, i]: prior j on estimate i
    order = [torch.as_tensor(linear_sum_assignment(-r.cpu().numpy())[1], device=theta.device) for r in rated]
    return torch.stack([theta[n, o] for n, o in enumerate(order)])


def _best_chains(s: torch.Tensor, log_densities: LogDensities, sigma: float, b: int, c: int) -> torch.Tensor:
    """Batch indices ``(b,)`` of the highest-density chain of each mix in ``s (b * c, K, T)``."""
    with torch.no_grad():
        return log_densities(s.detach(), sigma).sum(1).view(b, c).argmax(1) + c * torch.arange(b, device=s.device)


def _keep_best_chain(theta, spec, opt, s, log_densities: LogDensities, sigma: float, b: int, c: int):
    """The highest-density chain per mix, with its logits, spectrum and optimiser state."""
    best = _best_chains(s, log_densities, sigma, b, c)
    kept = theta.detach()[best].clone().requires_grad_(True)
    new = torch.optim.Adam([kept], lr=opt.param_groups[0]["lr"])
    old = opt.state[theta]
    new.state[kept] = {"step": old["step"].clone(), "exp_avg": old["exp_avg"][best].clone(),
                       "exp_avg_sq": old["exp_avg_sq"][best].clone()}
    return kept, spec[best], 1, new
