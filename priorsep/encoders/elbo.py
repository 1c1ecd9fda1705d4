"""The variational objective (seed 003, eq. 20-25): amortised posteriors q_phi(s_k | m), trained on
mixtures only, against frozen noise-conditioned priors, with Pyro.

Model (one mixture ``m (T,)``; a plate over the batch):

    s_k ~ p_k(s_k | sigma)                      (the frozen prior, as a Pyro distribution)
    m   ~ N(sum_k w_k s_k, gamma^2 I)

Guide: s_k ~ N(mu_k(m), diag tau_k(m)^2), mu and tau from one :class:`Encoder` network for all
sources. ``Trace_ELBO`` on this pair is the ELBO of the issue,

    sum_k E_q[log p_k(s_k | sigma)] + sum_k H[q_k] + E_q[log N(m; sum_k w_k s_k, gamma^2 I)],

estimated with reparameterised draws of the guide (gradients reach the encoder through the
priors' scores; the priors' own parameters are frozen).

Training with a sigma/gamma annealing is :func:`priorsep.training.posterior.train_posterior`; the
ELBO is tested against its closed form on Gaussian priors. Trained by the ELBO alone, the encoders
did not separate (``benchmarks/results/variational/``); the bundled ``toy-wavenet`` encoder is first
fitted to the Langevin separator's estimates of mixtures (:mod:`priorsep.training.teacher`), then
trained by the ELBO with q's std tied to sigma, and separates in one pass (9.06 dB on 96 fresh toy
mixes, 0.09 s per mix).
"""
from __future__ import annotations

import math

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import TorchDistribution
from torch.distributions import constraints

from ..priors.base import Prior
from ..priors.io import PriorSet
from .networks import Encoder, MaskEncoder


class PriorDistribution(TorchDistribution):
    """A frozen prior at noise level ``sigma`` as a Pyro distribution over ``(batch, T)`` waveforms:
    batch shape ``(batch,)``, event shape ``(T,)``; ``log_prob`` is ``prior.log_prob(x, sigma)``."""

    arg_constraints: dict = {}
    support = constraints.real_vector
    has_rsample = False

    def __init__(self, prior: Prior, sigma: float, batch_shape, length: int, validate_args=None):
        self.prior, self.sigma, self.length = prior, float(sigma), int(length)
        batch_shape = torch.Size([batch_shape]) if isinstance(batch_shape, int) else torch.Size(batch_shape)
        super().__init__(batch_shape, torch.Size([length]), validate_args=validate_args)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        flat = value.reshape(-1, self.length)
        return self.prior.log_prob(flat, self.sigma).reshape(value.shape[:-1])

    def sample(self, sample_shape=torch.Size()) -> torch.Tensor:
        n = int(torch.Size(sample_shape).numel()) * int(self.batch_shape.numel())
        x = self.prior.sample(n, self.length, self.sigma)
        return x.reshape(*sample_shape, *self.batch_shape, self.length)

    def expand(self, batch_shape, _instance=None):
        return PriorDistribution(self.prior, self.sigma, batch_shape, self.length)


def model(mix: torch.Tensor, priors: PriorSet, sigma: float, gamma: float) -> None:
    """The generative model: independent priors at ``sigma``, a Gaussian mix likelihood of std ``gamma``."""
    b, t = mix.shape
    w = torch.as_tensor(priors.weights, dtype=mix.dtype, device=mix.device)
    with pyro.plate("mixes", b):
        sources = [pyro.sample(f"s_{p.name}", PriorDistribution(p, sigma, b, t)) for p in priors]
        loc = sum(wk * s for wk, s in zip(w, sources))
        pyro.sample("mix", dist.Normal(loc, gamma).to_event(1), obs=mix)


def guide(mix: torch.Tensor, priors: PriorSet, sigma: float, gamma: float, encoder: Encoder,
          tie_scale: bool = False) -> None:
    """The amortised posterior: one diagonal Gaussian per source from the encoder. ``tie_scale``:
    its std is ``sigma`` instead of the encoder's scale, so a draw mu + sigma * eps is what the
    noise-conditioned prior at ``sigma`` models (a clean source plus noise of std sigma)."""
    pyro.module("encoder", encoder)
    loc, scale = encoder(mix)
    if tie_scale:
        scale = torch.full_like(loc, sigma)
    with pyro.plate("mixes", mix.shape[0]):
        for k, p in enumerate(priors):
            pyro.sample(f"s_{p.name}", dist.Normal(loc[:, k], scale[:, k]).to_event(1))


def elbo(mix: torch.Tensor, priors: PriorSet, encoder: Encoder, sigma: float, gamma: float,
         particles: int = 1, tie_scale: bool = False) -> torch.Tensor:
    """Monte-Carlo ELBO (nats, summed over the batch) of ``mix (B, T)``, differentiable in the encoder;
    ``particles`` draws are vectorised (one batched pass through each prior). ``tie_scale``: see :func:`guide`."""
    # pyro.module keeps parameters in a global store and would load a previous encoder's values into
    # this one; the encoder's own parameters are the truth here (torch optimisers, checkpoints)
    pyro.clear_param_store()
    loss = pyro.infer.Trace_ELBO(num_particles=particles, vectorize_particles=particles > 1,
                                 max_plate_nesting=1).differentiable_loss(
        lambda m: model(m, priors, sigma, gamma), lambda m: guide(m, priors, sigma, gamma, encoder, tie_scale), mix)
    return -loss


def mask_elbo(mix: torch.Tensor, priors: PriorSet, encoder: MaskEncoder, sigma: float, particles: int = 1,
              fixed_means: bool = True) -> torch.Tensor:
    """Monte-Carlo ELBO (nats, summed over the batch) of a per-bin-scale :class:`MaskEncoder`'s
    posterior over the mask logits of ``mix (B, T)``: E_q[sum_k log p_k(s_k(theta) | sigma)] + H[q],
    with q(theta | m) = N(theta(m), diag tau(m)^2) and s_k(theta) the masked sources, which meet the
    mix exactly (no likelihood term). The target is the density the mask-space search climbs
    (the priors' product on the mix plane, no Jacobian of the mask map); the masks ignore a shift of
    all K logits of a bin, a direction q's diagonal entropy still counts. ``fixed_means``: no
    gradient reaches the means or the trunk, only the scale head is trained."""
    theta, log_tau, spec = encoder.mask_posterior(mix, fixed_means)
    eps = torch.randn((particles, *theta.shape), dtype=theta.dtype, device=theta.device)
    sources = encoder.mask_draws(theta, log_tau, spec, eps, mix.shape[-1]).flatten(0, 1)  # (particles * B, K, T)
    log_p = sum(p.log_prob(sources[:, k], sigma) for k, p in enumerate(priors))  # (particles * B,)
    entropy = log_tau.sum((1, 2, 3)) + 0.5 * log_tau[0].numel() * math.log(2 * math.pi * math.e)
    return (log_p.view(particles, mix.shape[0]).mean(0) + entropy).sum()


def freeze(priors: PriorSet) -> None:
    """The priors are fixed during variational training: no gradients into their parameters."""
    for p in priors:
        p.eval()
        for q in p.parameters():
            q.requires_grad_(False)
