"""Denoiser prior (experimental: measured as not separating, ``benchmarks/results/denoiser/README.md``):
a noise-conditioned denoiser D(x, sigma) ~ E[s | s + sigma eps = x], the score
network of a diffusion model (EDM preconditioning, Karras et al. 2022), trained by denoising alone.

Its score comes from Tweedie's formula, grad log p(x | sigma) = (D(x, sigma) - x) / sigma^2: one
forward pass, no autograd, and it is exactly the quantity the annealed Langevin sampler needs.
The price: no normalised density. :meth:`log_prob` returns
-<x - D(x, sigma), x> / (2 sigma^2) - T/2 log(2 pi (sigma^2 + sigma_data^2)), which is the exact
log density when D is linear (as at initialisation: the Gaussian N(0, sigma_data^2 + sigma^2)) and
otherwise a surrogate, fine for ranking chains of one prior but not calibrated between priors:
cross-likelihood matrices of denoiser priors are only indicative.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..schedule import geometric_sigmas
from ..dsp.stft import istft, stft
from ..priors.base import Prior, as_sigma
from ..registry import register
from .interference import off_manifold_offset
from .unet import UNetConditioner


class STFTMaskNet(nn.Module):
    """A complex mask on the STFT: ``y -> istft(M(log|Y|, sigma) * Y)``. ``M`` comes from a stack of
    2-D convolutions over (frequency, frame) with frequency dilations 1, 2, 4, ... and log sigma as
    a per-layer bias; zero at initialisation. Long windows resolve the partials of pitched sources,
    which time-domain U-Nets, whose pooling averages them away, could not denoise (measured: 4-5 dB
    gain at sigma 0.5 for a sine). Harmonic stacking: the features of bin f include those of bins
    h * f for each ratio h in ``harmonics``, so that a bin sees its partials (what tells a sine's
    peak from a square's fundamental) however far apart they are.

    ``global_context``: every layer also sees, at each bin, the frame's maximum over frequency and
    the bin's mean over time. Without them a layer only sees ~60 neighbouring bins and 11 frames,
    and cannot decide "this is *the* peak" or pool a note's evidence over the whole window; the
    unconditional samples of such denoisers were quiet blends of several weak pitches (measured on
    the toy sources, ``benchmarks/results/denoiser/``)."""

    def __init__(self, n_fft: int, hop: int, hidden: int, layers: int, harmonics: tuple[float, ...] = (1.0,),
                 global_context: bool = False):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        bins = n_fft // 2 + 1
        index = torch.tensor([[round(h * f) for f in range(bins)] for h in harmonics])
        self.register_buffer("h_index", index.clamp(max=bins - 1), persistent=False)
        self.register_buffer("h_valid", (index < bins).float()[None, :, :, None], persistent=False)
        self.start = nn.Conv2d(len(harmonics), hidden, 3, padding=1)
        self.convs = nn.ModuleList(nn.Conv2d(hidden, hidden, 3, padding=(2**i, 1), dilation=(2**i, 1))
                                   for i in range(layers))
        self.context = (nn.ModuleList(nn.Conv2d(3 * hidden, hidden, 1) for _ in range(layers))
                        if global_context else None)
        self.cond = nn.Linear(1, hidden * (layers + 1))
        self.end = nn.Conv2d(hidden, 2, 1)
        nn.init.zeros_(self.end.weight)
        nn.init.zeros_(self.end.bias)

    def features(self, spec: torch.Tensor) -> torch.Tensor:
        """Log power of ``spec (B, F, N)`` at each bin's harmonic ratios: ``(B, len(harmonics), F, N)``
        (ratios past Nyquist read as 0)."""
        logmag = torch.log(spec.abs() ** 2 + 1e-6)
        return logmag[:, self.h_index] * self.h_valid

    def forward(self, y: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
        """``y (B, 1, T)``, ``log_sigma (B, 1)`` -> ``(B, 1, T)``."""
        spec = stft(y[:, 0], self.n_fft, self.hop)  # (B, F, N)
        feats = self.features(spec)
        bias = self.cond(log_sigma)[..., None, None].chunk(len(self.convs) + 1, dim=1)
        h = F.gelu(self.start(feats) + bias[0])
        for i, (conv, b) in enumerate(zip(self.convs, bias[1:])):
            h = h + F.gelu(conv(h) + b)
            if self.context is not None:  # h: (B, C, F, N)
                wide = torch.cat([h, h.amax(2, keepdim=True).expand_as(h), h.mean(3, keepdim=True).expand_as(h)], 1)
                h = h + F.gelu(self.context[i](wide))
        mask = self.end(h)
        return istft(torch.complex(mask[:, 0], mask[:, 1]) * spec, self.n_fft, self.hop, y.shape[-1])[:, None]


class _WithScore(torch.autograd.Function):
    """``energy`` as a function of ``x`` whose gradient is the Tweedie ``score``: the denoiser's
    energy is only a surrogate of log p, but every gradient-based user of :meth:`log_prob` (the
    variational ELBO, Langevin through autograd) must see the score."""

    @staticmethod
    def forward(ctx, x, energy, score):
        ctx.save_for_backward(score)
        return energy

    @staticmethod
    def backward(ctx, grad):
        (score,) = ctx.saved_tensors
        return grad[:, None] * score, None, None


@register("prior")
class DenoiserPrior(Prior):
    """Config keys: ``network`` ("stft": :class:`STFTMaskNet` with ``n_fft`` (1024), ``hop`` (256),
    ``layers`` (5), ``harmonics`` ([1.0]: no stacking) and ``global_context`` (False); "unet": a time-domain U-Net with
    ``levels`` (8) halvings), ``hidden`` (24), ``sigma_data`` (0.5, typical std of the clean audio),
    plus the common ones."""

    kind = "denoiser"
    defaults = dict(network="stft", hidden=24, n_fft=1024, hop=256, layers=5, harmonics=[1.0], global_context=False,
                    levels=8, sigma_data=0.5)

    def __init__(self, config: dict):
        config = {**self.defaults, **config}
        super().__init__(config)
        if config["network"] == "stft":
            self.net = STFTMaskNet(config["n_fft"], config["hop"], config["hidden"], config["layers"],
                                   tuple(config["harmonics"]), bool(config["global_context"]))
        elif config["network"] == "unet":
            self.net = UNetConditioner(1, 1, config["hidden"], config["levels"])
        else:
            raise ConfigError(f"denoiser network must be 'stft' or 'unet', got {config['network']!r}")

    @property
    def length_multiple(self) -> int:
        return self.config["hop"] if self.config["network"] == "stft" else 2 ** self.config["levels"]

    def denoise(self, x: torch.Tensor, sigma) -> torch.Tensor:
        """``D(x, sigma)``: the estimate of the clean ``(batch, time)`` signal."""
        if x.dim() != 2 or x.shape[-1] % self.length_multiple:
            raise ConfigError(f"denoiser prior input must be (batch, time) with time a multiple of "
                              f"{self.length_multiple}; got {tuple(x.shape)}")
        s = as_sigma(sigma, x.shape[0], x)[:, None]
        sd = self.config["sigma_data"]
        total = s**2 + sd**2
        c_skip, c_out, c_in = sd**2 / total, s * sd / total.sqrt(), 1 / total.sqrt()
        f = self.net((c_in * x)[:, None], torch.log(s) / 4)[:, 0]
        return c_skip * x + c_out * f

    def denoising_loss(self, clean: torch.Tensor, sigma: torch.Tensor, eps: torch.Tensor,
                       offset: torch.Tensor | None = None) -> torch.Tensor:
        """EDM's weighted squared error per sample, ``(batch,)``: unit-scale at every sigma. The input
        is ``clean + offset + sigma * eps`` and the target ``clean`` (``offset``: off-manifold
        training, :meth:`off_manifold_offset`)."""
        s = sigma[:, None]
        d = self.denoise(clean + s * eps + (0 if offset is None else offset), sigma)
        weight = (s**2 + self.config["sigma_data"] ** 2) / (s * self.config["sigma_data"]) ** 2
        return (weight * (d - clean) ** 2).mean(-1)

    def off_manifold_offset(self, clean: torch.Tensor, sigma: torch.Tensor, generator: torch.Generator,
                            fraction: float) -> torch.Tensor:
        """The training hook of off-manifold training (``train_prior(..., off_manifold=fraction)``):
        what to add to a fraction of the clean crops ``(B, T)`` so that they hold the source at a
        reduced level plus generic pitched tones (:func:`priorsep.experimental.interference.off_manifold_offset`),
        still denoised to the clean source."""
        return off_manifold_offset(clean, sigma, float(self.config["sample_rate"]), generator, fraction)

    def _energy(self, x: torch.Tensor, d: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        total = s**2 + self.config["sigma_data"] ** 2
        return -((x - d) * x).sum(-1) / (2 * s**2) - 0.5 * x.shape[-1] * torch.log(2 * math.pi * total)

    def log_prob(self, x: torch.Tensor, sigma) -> torch.Tensor:
        """The surrogate log density ``(batch,)``; its gradient with respect to ``x`` is the Tweedie
        score (no gradient flows to the network: train with :meth:`denoising_loss`)."""
        g, energy = self.score(x, sigma)
        return _WithScore.apply(x, energy, g) if x.requires_grad else energy

    @torch.no_grad()
    def sample(self, n: int, length: int, sigma: float, generator: torch.Generator | None = None,
               steps: int = 100) -> torch.Tensor:
        """``(n, length)`` draws of x + sigma * eps by reverse diffusion: from N(0, sigma_max^2 + sigma_data^2)
        at the prior's ``sigma_max``, ``steps`` Euler-Maruyama steps of the variance-exploding reverse SDE
        down a geometric schedule to ``sigma`` (what the prior learned, to listen to or to check
        that it generates its source at the right level)."""
        if length % self.length_multiple:
            raise ConfigError(f"length {length} is not a multiple of {self.length_multiple}")
        sigmas = geometric_sigmas(max(float(self.config["sigma_max"]), sigma), sigma, steps + 1).tolist()
        p = next(self.parameters())
        start = math.sqrt(sigmas[0] ** 2 + self.config["sigma_data"] ** 2)  # the marginal at sigma_max
        x = start * torch.randn(n, length, generator=generator, dtype=p.dtype)
        for hi, lo in zip(sigmas[:-1], sigmas[1:]):
            var = hi**2 - lo**2
            x = (x + var * self.score(x, hi)[0]
                 + math.sqrt(var) * torch.randn(x.shape, generator=generator, dtype=p.dtype))
        return x

    def score(self, x: torch.Tensor, sigma) -> tuple[torch.Tensor, torch.Tensor]:
        s = as_sigma(sigma, x.shape[0], x)
        with torch.no_grad():
            x = x.detach()
            d = self.denoise(x, s)
            return (d - x) / s[:, None] ** 2, self._energy(x, d, s)
