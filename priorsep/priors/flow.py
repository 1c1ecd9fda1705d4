"""Noise-conditioned flow prior: squeeze, then blocks of ActNorm, invertible 1x1 conv and affine
coupling with a non-causal WaveNet conditioner that also sees log sigma (FloWaveNet/WaveGlow style).

Transforms are nflows ``Transform``s (``forward(x, context) -> (z, logabsdet)``) with
``context = log sigma``, shaped ``(batch, 1)``. We write our own coupling and 1x1 conv because
nflows 0.14's versions do not fit (its affine scale ``sigmoid(x+2)+1e-3`` can only shrink,
``NaiveLinear.inverse`` calls the removed ``torch.solve``) and its ActNorm expects 2-D or 4-D input.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from nflows.transforms import CompositeTransform, Transform
from torch import nn

from ..registry import register
from .base import Prior, as_sigma
from ..errors import ConfigError, InvalidAudioError

_LOG_2PI = math.log(2 * math.pi)


class SigmaScale(Transform):
    """x -> x / sqrt(sigma_data^2 + sigma^2): brings every noise level to unit scale."""

    def __init__(self, sigma_data: float):
        super().__init__()
        self.sigma_data = sigma_data

    def _log_scale(self, x, context):
        sigma = context.exp().view(-1, 1, 1)
        return -0.5 * torch.log(self.sigma_data**2 + sigma**2)

    def forward(self, x, context=None):
        ls = self._log_scale(x, context)
        return x * ls.exp(), ls.view(-1) * x[0].numel()

    def inverse(self, z, context=None):
        ls = self._log_scale(z, context)
        return z * (-ls).exp(), -ls.view(-1) * z[0].numel()


class Squeeze1d(Transform):
    """``(B, C, T)`` -> ``(B, C*f, T/f)``: consecutive samples become channels (volume-preserving)."""

    def __init__(self, factor: int):
        super().__init__()
        self.factor = factor

    def forward(self, x, context=None):
        b, c, t = x.shape
        if t % self.factor:
            raise InvalidAudioError(f"length {t} is not a multiple of the squeeze factor {self.factor}")
        z = (x.view(b, c, t // self.factor, self.factor).permute(0, 1, 3, 2)
             .reshape(b, c * self.factor, t // self.factor))
        return z, x.new_zeros(b)

    def inverse(self, z, context=None):
        b, cf, n = z.shape
        c = cf // self.factor
        x = z.view(b, c, self.factor, n).permute(0, 1, 3, 2).reshape(b, c, n * self.factor)
        return x, z.new_zeros(b)


class ActNorm1d(Transform):
    """Per-channel affine z = (x + bias) * exp(log_scale), initialised from the first batch."""

    def __init__(self, channels: int):
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def _init(self, x):
        self.bias.data = -x.mean(dim=(0, 2), keepdim=True)
        self.log_scale.data = -torch.log(x.std(dim=(0, 2), keepdim=True) + 1e-6)
        self.initialized.fill_(True)

    def forward(self, x, context=None):
        if self.training and not bool(self.initialized):
            self._init(x)
        z = (x + self.bias) * self.log_scale.exp()
        return z, self.log_scale.sum().expand(x.shape[0]) * x.shape[2]

    def inverse(self, z, context=None):
        x = z * (-self.log_scale).exp() - self.bias
        return x, -self.log_scale.sum().expand(z.shape[0]) * z.shape[2]


class InvConv1x1(Transform):
    """Invertible 1x1 convolution (channel mixing) with a random orthogonal initial weight."""

    def __init__(self, channels: int):
        super().__init__()
        w = torch.linalg.qr(torch.randn(channels, channels))[0]
        self.weight = nn.Parameter(w)

    def forward(self, x, context=None):
        logdet = torch.linalg.slogdet(self.weight)[1] * x.shape[2]
        return F.conv1d(x, self.weight.unsqueeze(-1)), logdet.expand(x.shape[0])

    def inverse(self, z, context=None):
        w_inv = torch.linalg.inv(self.weight)
        logdet = -torch.linalg.slogdet(self.weight)[1] * z.shape[2]
        return F.conv1d(z, w_inv.unsqueeze(-1)), logdet.expand(z.shape[0])


class WaveNetConditioner(nn.Module):
    """Non-causal gated dilated conv stack; log sigma enters every layer as a global bias."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int, n_layers: int, kernel_size: int = 3):
        super().__init__()
        self.start = nn.Conv1d(in_channels, hidden, 1)
        self.dilated = nn.ModuleList()
        self.cond = nn.ModuleList()
        self.res_skip = nn.ModuleList()
        for i in range(n_layers):
            d = 2**i
            self.dilated.append(nn.Conv1d(hidden, 2 * hidden, kernel_size, dilation=d,
                                          padding=d * (kernel_size - 1) // 2))
            self.cond.append(nn.Linear(1, 2 * hidden))
            self.res_skip.append(nn.Conv1d(hidden, 2 * hidden if i < n_layers - 1 else hidden, 1))
        self.end = nn.Conv1d(hidden, out_channels, 1)
        # identity coupling at initialisation
        nn.init.zeros_(self.end.weight)
        nn.init.zeros_(self.end.bias)
        self.hidden = hidden

    def forward(self, x, log_sigma):
        h = self.start(x)
        skip = 0
        for i, (dil, cond, rs) in enumerate(zip(self.dilated, self.cond, self.res_skip)):
            a = dil(h) + cond(log_sigma).unsqueeze(-1)
            t, s = a.chunk(2, dim=1)
            acts = torch.tanh(t) * torch.sigmoid(s)
            out = rs(acts)
            if i < len(self.dilated) - 1:
                h = h + out[:, : self.hidden]
                skip = skip + out[:, self.hidden :]
            else:
                skip = skip + out
        return self.end(skip)


class AffineCoupling(Transform):
    """x_b -> x_b * exp(s) + t with (s, t) = conditioner(x_a, log sigma); s = c * tanh(raw / c).

    The conditioner is a :class:`WaveNetConditioner` of ``hidden`` channels and ``n_layers``, or
    ``conditioner(in_channels, out_channels)`` (a module ``(x_a, log_sigma) -> (s, t)``, zero at
    initialisation so that the coupling starts as the identity)."""

    def __init__(self, channels: int, hidden: int, n_layers: int, scale_bound: float = 3.0,
                 conditioner: Callable[[int, int], nn.Module] | None = None):
        super().__init__()
        self.half = channels // 2
        out = 2 * (channels - self.half)
        self.net = (conditioner(self.half, out) if conditioner is not None
                    else WaveNetConditioner(self.half, out, hidden, n_layers))
        self.scale_bound = scale_bound

    def _params(self, xa, context):
        raw_s, t = self.net(xa, context).chunk(2, dim=1)
        return self.scale_bound * torch.tanh(raw_s / self.scale_bound), t

    def forward(self, x, context=None):
        xa, xb = x[:, : self.half], x[:, self.half :]
        s, t = self._params(xa, context)
        return torch.cat([xa, xb * s.exp() + t], 1), s.sum(dim=(1, 2))

    def inverse(self, z, context=None):
        za, zb = z[:, : self.half], z[:, self.half :]
        s, t = self._params(za, context)
        return torch.cat([za, (zb - t) * (-s).exp()], 1), -s.sum(dim=(1, 2))


@register("prior")
class FlowPrior(Prior):
    """Noise-conditioned normalizing-flow prior over mono waveforms ``(batch, time)``.

    Config keys: ``squeeze`` (16), ``n_blocks`` (8), ``hidden`` (32), ``n_layers`` (5),
    ``scale_bound`` (3.0), ``sigma_data`` (0.5), ``basis`` (``"learned"``), plus the common ones
    (``source``, ``sample_rate``, ``sigma_min``, ``sigma_max``, ...). ``unet_levels`` must be 0
    here: U-Net conditioners are the experimental ``priorsep.experimental.UNetFlowPrior``
    (kind ``"unet-flow"``), a subclass that overrides :meth:`conditioner`.

    Each block is ActNorm, a learned invertible 1x1 conv and a coupling (``basis="learned"``, the
    only basis here; the fixed DCT basis is the experimental
    ``priorsep.experimental.DCTFlowPrior``, kind ``"dct-flow"``).
    """

    kind = "flow"
    defaults = dict(squeeze=16, n_blocks=8, hidden=32, n_layers=5, scale_bound=3.0, sigma_data=0.5, basis="learned",
                    unet_levels=0)

    def __init__(self, config: dict):
        config = {**self.defaults, **config}
        self._check_basis(config)
        self._check_conditioner(config)
        super().__init__(config)
        c = config["squeeze"]
        coupling = lambda: AffineCoupling(c, config["hidden"], config["n_layers"], config["scale_bound"],  # noqa: E731
                                          self.conditioner)
        self.transform = CompositeTransform([SigmaScale(config["sigma_data"]), Squeeze1d(c),
                                             *self.blocks(c, config["n_blocks"], coupling)])

    def _check_basis(self, config: dict) -> None:
        if config["basis"] != "learned":
            raise ConfigError(f"flow basis {config['basis']!r}: the flow's basis is 'learned'; the fixed DCT basis "
                              "is experimental: build the flow as kind 'dct-flow' (priorsep.experimental.DCTFlowPrior, "
                              "or priorsep.priors.io.build_prior with basis='dct')")

    def blocks(self, channels: int, n_blocks: int, coupling: Callable[[], Transform]) -> list[Transform]:
        """The transforms after the squeeze: ``n_blocks`` of ActNorm, a 1x1 conv and a ``coupling()``."""
        return [t for _ in range(n_blocks) for t in (ActNorm1d(channels), InvConv1x1(channels), coupling())]

    def _check_conditioner(self, config: dict) -> None:
        if int(config.get("unet_levels") or 0) != 0:
            raise ConfigError(f"unet_levels={config['unet_levels']}: U-Net coupling conditioners are experimental; "
                              "build the flow as kind 'unet-flow' (priorsep.experimental.UNetFlowPrior, or "
                              "priorsep.priors.io.build_prior)")

    def conditioner(self, in_channels: int, out_channels: int) -> nn.Module:
        """Each coupling's conditioner: a :class:`WaveNetConditioner` of ``hidden`` channels and
        ``n_layers`` layers."""
        return WaveNetConditioner(in_channels, out_channels, self.config["hidden"], self.config["n_layers"])

    @property
    def length_multiple(self) -> int:
        return int(self.config["squeeze"])

    def _context(self, x, sigma):
        return as_sigma(sigma, x.shape[0], x).log().unsqueeze(-1)

    def log_prob(self, x: torch.Tensor, sigma) -> torch.Tensor:
        if x.ndim != 2:
            raise InvalidAudioError(f"expected x shaped (batch, time), got {tuple(x.shape)}")
        z, logdet = self.transform(x.unsqueeze(1), context=self._context(x, sigma))
        return -0.5 * (z.pow(2).sum(dim=(1, 2)) + z[0].numel() * _LOG_2PI) + logdet

    @torch.no_grad()
    def sample(self, n: int, length: int, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
        c = int(self.config["squeeze"])
        if length % self.length_multiple:
            raise InvalidAudioError(f"length {length} is not a multiple of {self.length_multiple}")
        p = next(self.parameters())
        z = torch.randn(n, c, length // c, generator=generator, dtype=p.dtype, device=p.device)
        x, _ = self.transform.inverse(z, context=torch.full((n, 1), math.log(sigma), dtype=p.dtype, device=p.device))
        return x.squeeze(1)
