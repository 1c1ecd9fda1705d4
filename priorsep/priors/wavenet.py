"""Noise-conditioned autoregressive WaveNet prior (van den Oord et al. 2016, "WaveNet").

p(x | sigma) = prod_t p(x_t | x_<t, sigma) with a mixture of Gaussians per sample: continuous, so a
mix of sources stays a linear sum (mu-law quantisation would break that). The noise level enters
every layer as a global bias (like WaveNet's speaker conditioning), and each component's scale is
bounded below by sigma: x_t = clean_t + sigma * eps_t with eps_t independent of the past, so no
honest predictive distribution is narrower than that.

``log_prob`` of a whole window is one teacher-forced pass of causal dilated convolutions, so the
Langevin score is one forward and one backward pass. ``sample`` generates sample by sample with
per-layer queues of past activations (Paine et al. 2016, "Fast WaveNet generation"): O(layers)
work per sample instead of a pass over the receptive field.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import register
from .base import Prior, as_sigma
from ..errors import InvalidAudioError

_LOG_2PI = math.log(2 * math.pi)


class CausalWaveNet(nn.Module):
    """Gated dilated causal conv stack with residual and skip connections.

    ``forward(y (B, 1, T), log_sigma (B, 1)) -> (B, out_channels, T)``; output t depends on
    ``y[..., :t+1]`` only (the caller shifts the input so that it predicts y_t from y_<t).
    """

    def __init__(self, channels: int, skip_channels: int, n_layers: int, dilation_cycle: int, out_channels: int):
        super().__init__()
        self.dilations = [2 ** (i % dilation_cycle) for i in range(n_layers)]
        self.start = nn.Conv1d(1, channels, 1)
        self.dilated = nn.ModuleList(nn.Conv1d(channels, 2 * channels, 2, dilation=d) for d in self.dilations)
        self.cond = nn.ModuleList(nn.Linear(1, 2 * channels) for _ in self.dilations)
        self.res = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in self.dilations[:-1])
        self.skip = nn.ModuleList(nn.Conv1d(channels, skip_channels, 1) for _ in self.dilations)
        self.end1 = nn.Conv1d(skip_channels, skip_channels, 1)
        self.end2 = nn.Conv1d(skip_channels, out_channels, 1)
        self.channels = channels

    @property
    def receptive_field(self) -> int:
        return 1 + sum(self.dilations)

    def _gate(self, a: torch.Tensor) -> torch.Tensor:
        t, s = a.chunk(2, dim=1)
        return torch.tanh(t) * torch.sigmoid(s)

    def _head(self, skip: torch.Tensor) -> torch.Tensor:
        return self.end2(F.relu(self.end1(F.relu(skip))))

    def forward(self, y: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
        h = self.start(y)
        skip = 0
        for i, d in enumerate(self.dilations):
            a = self.dilated[i](F.pad(h, (d, 0))) + self.cond[i](log_sigma).unsqueeze(-1)
            g = self._gate(a)
            skip = skip + self.skip[i](g)
            if i < len(self.res):
                h = h + self.res[i](g)
        return self._head(skip)

    @torch.no_grad()
    def generate(self, n: int, length: int, log_sigma: torch.Tensor, draw) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the net sample by sample: ``draw(params (n, out)) -> (n,)`` picks y_t from the output at t,
        which is fed back as the input at t+1 (the first input is 0). Returns ``y (n, length)`` and the
        outputs ``(n, out_channels, length)``. Each layer keeps a ring buffer of its last ``d`` inputs.
        """
        p = self.start.weight
        queues = [p.new_zeros(n, self.channels, d) for d in self.dilations]
        cond = [c(log_sigma) for c in self.cond]
        # every 1x1 conv as (matrix, bias) for F.linear, and the two taps of each dilated conv:
        # w0 sees h_{t-d}, w1 sees h_t
        start = (self.start.weight[:, :, 0], self.start.bias)
        taps = [(conv.weight[:, :, 0], conv.weight[:, :, 1], conv.bias) for conv in self.dilated]
        skips = [(conv.weight[:, :, 0], conv.bias) for conv in self.skip]
        res = [(conv.weight[:, :, 0], conv.bias) for conv in self.res]
        y_prev = p.new_zeros(n, 1)
        ys, outs = [], []
        for t in range(length):
            h = F.linear(y_prev, *start)
            skip = 0
            for i, d in enumerate(self.dilations):
                w0, w1, b = taps[i]
                slot = t % d
                past = queues[i][:, :, slot].clone()  # a view: read before the slot is overwritten
                queues[i][:, :, slot] = h
                g = self._gate(F.linear(past, w0) + F.linear(h, w1, b) + cond[i])
                skip = skip + F.linear(g, *skips[i])
                if i < len(res):
                    h = h + F.linear(g, *res[i])
            out = self._head(skip.unsqueeze(-1)).squeeze(-1)
            y_prev = draw(out).unsqueeze(-1)
            ys.append(y_prev)
            outs.append(out)
        return torch.cat(ys, 1), torch.stack(outs, -1)


@register("prior")
class WaveNetPrior(Prior):
    """Noise-conditioned autoregressive prior over mono waveforms ``(batch, time)``.

    The waveform is scaled by ``1 / sqrt(sigma_data^2 + sigma^2)`` (unit scale at every noise level)
    and each scaled sample gets a ``n_mix``-component Gaussian mixture given the past.
    Config keys: ``channels`` (32), ``skip_channels`` (64), ``n_layers`` (12), ``dilation_cycle`` (12,
    dilations 1, 2, ..., 2^11: a receptive field of 4096 samples), ``n_mix`` (4), ``sigma_data`` (0.5),
    plus the common ones (``source``, ``sample_rate``, ``sigma_min``, ``sigma_max``, ...).
    """

    kind = "wavenet"
    defaults = dict(channels=32, skip_channels=64, n_layers=12, dilation_cycle=12, n_mix=4, sigma_data=0.5)

    def __init__(self, config: dict):
        config = {**self.defaults, **config}
        super().__init__(config)
        self.net = CausalWaveNet(config["channels"], config["skip_channels"], config["n_layers"],
                                 config["dilation_cycle"], 3 * config["n_mix"])

    @property
    def receptive_field(self) -> int:
        return self.net.receptive_field

    def _scale(self, sigma: torch.Tensor) -> torch.Tensor:
        return (self.config["sigma_data"] ** 2 + sigma**2).rsqrt()

    def _mixture(self, out: torch.Tensor, noise_std: torch.Tensor):
        """Mixture log-weights, means and log-scales from the net's output ``(B, 3M, T)``, each ``(B, M, T)``.

        ``noise_std (B,)`` is the scaled noise level, the smallest allowed component scale.
        """
        logits, mean, raw = out.chunk(3, dim=1)
        log_scale = noise_std.log().view(-1, 1, 1) + F.softplus(raw)
        return F.log_softmax(logits, dim=1), mean, log_scale

    def log_prob(self, x: torch.Tensor, sigma) -> torch.Tensor:
        if x.ndim != 2:
            raise InvalidAudioError(f"expected x shaped (batch, time), got {tuple(x.shape)}")
        s = as_sigma(sigma, x.shape[0], x)
        c = self._scale(s)
        y = x * c[:, None]
        inp = F.pad(y[:, None, :-1], (1, 0))  # predict y_t from y_<t
        log_w, mean, log_scale = self._mixture(self.net(inp, s.log()[:, None]), s * c)
        z = (y[:, None] - mean) * (-log_scale).exp()
        comp = -0.5 * (z.pow(2) + _LOG_2PI) - log_scale
        lp = torch.logsumexp(log_w + comp, dim=1).sum(-1)
        return lp + x.shape[1] * c.log()

    @torch.no_grad()
    def sample(self, n: int, length: int, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
        """Ancestral sampling of ``(n, length)`` draws of x + sigma * eps with cached activations."""
        x, _ = self._generate(n, length, sigma, generator)
        return x

    def _generate(self, n, length, sigma, generator):
        p = next(self.parameters())
        s = torch.full((n,), float(sigma), dtype=p.dtype, device=p.device)
        c = self._scale(s)

        def draw(out):
            log_w, mean, log_scale = self._mixture(out.unsqueeze(-1), s * c)
            k = torch.multinomial(log_w[..., 0].exp(), 1, generator=generator)
            mu = mean[..., 0].gather(1, k)[:, 0]
            sd = log_scale[..., 0].gather(1, k)[:, 0].exp()
            return mu + sd * torch.randn(n, generator=generator, dtype=p.dtype, device=p.device)

        y, outs = self.net.generate(n, length, s.log()[:, None], draw)
        return y / c[:, None], outs
