"""Encoder networks q_phi(s | m): mixtures ``(B, T)`` -> means and scales ``(B, K, T)``."""
from __future__ import annotations

import inspect
import math

import torch
import torch.nn.functional as F
from torch import nn

from ..dsp.masks import masked_sources
from ..dsp.stft import stft
from ..errors import ConfigError
from ..nn.harmonic_unet import HarmonicUNet, check_harmonics, harmonic_stack, log_power


MASK_SCALES = ("source", "bin")
#: the per-bin logit std's (soft) upper bound: where a bin's energy is nil no mask is better than
#: another, the ELBO's entropy would widen q there without end; at std 5 a draw's mask is already
#: about one-hot at random
MAX_LOGIT_SCALE = 5.0


def _bounded_log_scale(raw: torch.Tensor) -> torch.Tensor:
    """The scale head's output as a log std softly bounded above by log(:data:`MAX_LOGIT_SCALE`)."""
    top = math.log(MAX_LOGIT_SCALE)
    return top - F.softplus(top - raw)


def _gaussian_draws(loc: torch.Tensor, scale: torch.Tensor, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` draws ``(n, *loc.shape)`` of N(loc, diag scale^2)."""
    return loc + scale * torch.randn((n, *loc.shape), generator=generator, dtype=loc.dtype, device=loc.device)


class Encoder(nn.Module):
    """q_phi(s | m): mixtures ``(B, T)`` -> means and scales ``(B, K, T)``.

    A non-causal 1-D U-Net over ``2**levels``-sample-aligned inputs (``hidden`` channels; each level
    halves the time axis), so each output sample sees the whole window. The means start as the
    minimum-norm split of the mix (w_k m / |w|^2), which satisfies the mixing constraint, and
    the scales at ``init_scale``.
    """

    def __init__(self, weights: list[float], hidden: int = 32, levels: int = 6, init_scale: float = 0.1):
        super().__init__()
        self.config = dict(weights=list(map(float, weights)), hidden=hidden, levels=levels, init_scale=init_scale)
        k = len(weights)
        self.levels = levels
        self.start = nn.Conv1d(1, hidden, 15, padding=7)
        self.down = nn.ModuleList(nn.Conv1d(hidden, hidden, 5, padding=2) for _ in range(levels))
        self.up = nn.ModuleList(nn.Conv1d(2 * hidden, hidden, 5, padding=2) for _ in range(levels))
        self.out = nn.Conv1d(hidden, 2 * k, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.register_buffer("w", torch.tensor(weights, dtype=torch.float32))
        self.log_init_scale = math.log(init_scale)

    @property
    def length_multiple(self) -> int:
        return 2**self.levels

    @property
    def alignment_span(self) -> int:
        """Samples over which a delayed input meets the network differently (its coarsest grid)."""
        return self.length_multiple

    def forward(self, mix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, t = mix.shape
        if t % self.length_multiple:
            raise ConfigError(f"encoder input length {t} is not a multiple of {self.length_multiple}")
        h = F.gelu(self.start(mix[:, None]))
        skips = []
        for conv in self.down:
            skips.append(h)
            h = F.gelu(conv(F.avg_pool1d(h, 2)))
        for conv in self.up:
            skip = skips.pop()
            h = F.interpolate(h, size=skip.shape[-1], mode="linear", align_corners=False)
            h = F.gelu(conv(torch.cat([h, skip], 1)))
        delta, log_scale = self.out(h).view(b, 2, -1, t).unbind(1)
        base = self.w[None, :, None] * mix[:, None] / (self.w**2).sum()
        return base + delta, torch.exp(log_scale + self.log_init_scale)

    def draw(self, mix: torch.Tensor, n: int, generator: torch.Generator | None = None,
             scale_factor: float = 1.0) -> torch.Tensor:
        """``n`` draws ``(n, B, K, T)`` of the diagonal Gaussian q(s | m) for ``mix (B, T)``, its stds
        times ``scale_factor``."""
        loc, scale = self(mix)
        return _gaussian_draws(loc, scale_factor * scale, n, generator)


class MaskEncoder(HarmonicUNet):
    """q_phi(s | m) in the mixture's mask space: mixtures ``(B, T)`` -> means and scales ``(B, K, T)``.

    The means are soft shares of the mixture's STFT, mu_k = istft(softmax_k(theta(m)) * STFT(m)) / w_k,
    the family the mask-space Langevin search climbs in (``mask_space.py``): they meet the mix
    exactly, and a partial moves between sources by one logit. The logits ``(B, K, F, N)`` come
    from a :class:`~priorsep.harmonic_unet.HarmonicUNet` (pooling over frequency only: a harmonic's
    relatives far up the spectrum are in view; the mean over frames at every level) on the
    log-power spectrogram. One learned scale per source. The logits start at log w_k^2, the
    minimum-norm split.

    ``harmonics``: the input's channels are the log-power at ``h * f`` for each ``h``
    (:func:`~priorsep.harmonic_unet.harmonic_stack`); ``(1.0,)`` is the plain spectrogram.
    ``position``: one more channel, the bin's frequency as a fraction of Nyquist.

    ``scale``: what the posterior's spread is. ``"source"``: one learned std per source in signal
    space (``forward``'s scales; its draws mu + scale * eps do not meet the mix). ``"bin"``: besides,
    a *logit* std per source and time-frequency bin, from a small head on the trunk's last hidden
    layer (:meth:`mask_posterior`): q(theta | m) = N(theta(m), diag tau(m)^2) over the mask logits,
    whose draws softmax_k(theta + tau * eps) * STFT(m) meet the mix exactly (:meth:`draw`); it is
    trained by the mask-space ELBO (:func:`~priorsep.encoders.elbo.mask_elbo`).
    """

    def __init__(self, weights: list[float], hidden: int = 32, levels: int = 5, n_fft: int = 1024, hop: int = 256,
                 init_scale: float = 0.1, harmonics: tuple[float, ...] = (1.0,), position: bool = False,
                 scale: str = "source"):
        if hop < 1 or hop > n_fft // 2:
            raise ConfigError(f"need 1 <= hop <= n_fft / 2, got n_fft={n_fft}, hop={hop}")
        if scale not in MASK_SCALES:
            raise ConfigError(f"mask encoder scale must be one of {MASK_SCALES}, got {scale!r}")
        check_harmonics(harmonics)
        k = len(weights)
        super().__init__(len(harmonics) + bool(position), k, hidden, levels)
        self.config = dict(weights=list(map(float, weights)), hidden=hidden, levels=levels, n_fft=n_fft, hop=hop,
                           init_scale=init_scale, harmonics=list(map(float, harmonics)), position=bool(position),
                           scale=scale)
        self.n_fft, self.hop = n_fft, hop
        self.harmonics, self.position = tuple(map(float, harmonics)), bool(position)
        nn.init.zeros_(self.out.weight)
        self.register_buffer("w", torch.tensor(weights, dtype=torch.float32))
        with torch.no_grad():
            self.out.bias.copy_(torch.log(self.w**2))
        self.log_scale = nn.Parameter(torch.full((k,), math.log(init_scale)))
        self.scale_head = None
        if scale == "bin":  # starts at tau = init_scale everywhere
            if not 0 < init_scale < MAX_LOGIT_SCALE:
                raise ConfigError(f"a per-bin scale needs 0 < init_scale < {MAX_LOGIT_SCALE}, got {init_scale}")
            self.scale_head = nn.Sequential(nn.Conv2d(hidden, hidden, 3, padding=1), nn.GELU(), nn.Conv2d(hidden, k, 1))
            nn.init.zeros_(self.scale_head[-1].weight)
            top = math.log(MAX_LOGIT_SCALE)  # the bias that _bounded_log_scale maps to log(init_scale)
            nn.init.constant_(self.scale_head[-1].bias, top - math.log(math.expm1(top - math.log(init_scale))))

    @property
    def length_multiple(self) -> int:
        return 1

    @property
    def alignment_span(self) -> int:
        """Samples over which a delayed input meets the STFT frames differently: one hop."""
        return self.hop

    def mask_posterior(self, mix: torch.Tensor, fixed_means: bool = False
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``mix (B, T)`` -> ``(theta, log_tau, spec)``: the logits' means and log stds ``(B, K, F, N)``
        (``scale="bin"`` only) and the mixtures' STFT ``(B, F, N)``. ``fixed_means``: gradients reach
        the scale head only (the means and the trunk are computed without them)."""
        if self.scale_head is None:
            raise ConfigError("this mask encoder has no per-bin scale (scale='source'); train one with "
                              "priorsep train-posterior --mask-scale")
        spec = self._spec(mix)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not fixed_means):
            h = self._hidden(spec)
            theta = self.out(h)
        return theta, _bounded_log_scale(self.scale_head(h)), spec

    def mask_draws(self, theta: torch.Tensor, log_tau: torch.Tensor, spec: torch.Tensor, eps: torch.Tensor,
                   length: int) -> torch.Tensor:
        """Sources ``(n, B, K, T)`` of the logits theta + tau * eps, ``eps (n, B, K, F, N)`` (what
        :meth:`mask_posterior` gives, and standard normal noise): every draw meets the mix exactly."""
        n = eps.shape[0]
        logits = (theta + log_tau.exp() * eps).flatten(0, 1)
        sources = masked_sources(logits, spec.repeat(n, 1, 1), self.w, self.n_fft, self.hop, length)
        return sources.view(n, *theta.shape[:2], length)

    def draw(self, mix: torch.Tensor, n: int, generator: torch.Generator | None = None,
             scale_factor: float = 1.0) -> torch.Tensor:
        """``n`` draws ``(n, B, K, T)`` of the sources for ``mix (B, T)``: with ``scale="bin"``, mask-space
        draws (logits theta + tau * eps, each meeting the mix exactly); else mu + scale * eps. The stds
        (tau or scale) are multiplied by ``scale_factor``."""
        if self.scale_head is None:
            loc, scale = self(mix)
            return _gaussian_draws(loc, scale_factor * scale, n, generator)
        theta, log_tau, spec = self.mask_posterior(mix)
        eps = scale_factor * torch.randn((n, *theta.shape), generator=generator, dtype=theta.dtype,
                                          device=theta.device)
        return self.mask_draws(theta, log_tau, spec, eps, mix.shape[-1])

    def _spec(self, mix: torch.Tensor) -> torch.Tensor:
        """The mixtures' STFT ``(B, F, N)`` of ``mix (B, T)``, long enough for one frame."""
        t = mix.shape[-1]
        if t <= self.n_fft // 2:
            raise ConfigError(f"mask encoder input length {t} must exceed n_fft / 2 = {self.n_fft // 2} samples")
        return stft(mix, self.n_fft, self.hop)

    def _hidden(self, spec: torch.Tensor) -> torch.Tensor:
        """The trunk's last hidden layer ``(B, hidden, F, N)`` for the mixtures' STFT ``spec (B, F, N)``."""
        return self.features(harmonic_stack(log_power(spec), self.harmonics, self.position))

    def logits(self, spec: torch.Tensor) -> torch.Tensor:
        """Mask logits ``(B, K, F, N)`` from the mixtures' complex STFT ``spec (B, F, N)``."""
        return self.out(self._hidden(spec))

    def forward(self, mix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, t = mix.shape
        spec = self._spec(mix)
        loc = masked_sources(self.logits(spec), spec, self.w, self.n_fft, self.hop, t)
        return loc, torch.exp(self.log_scale)[None, :, None].expand(b, -1, t)


def with_bin_scale(encoder: MaskEncoder) -> MaskEncoder:
    """A copy of a mask encoder with a fresh per-bin logit scale head (``scale="bin"``) and every other
    weight, so its means are unchanged; the head is then trained by the mask-space ELBO."""
    if not isinstance(encoder, MaskEncoder):
        raise ConfigError(f"a per-bin scale needs a mask encoder (--architecture mask), got {type(encoder).__name__}")
    args = {k: v for k, v in encoder.config.items() if k in inspect.signature(MaskEncoder).parameters}
    out = MaskEncoder(**{**args, "scale": "bin"})
    missing, unexpected = out.load_state_dict(encoder.state_dict(), strict=False)
    if unexpected or any(not name.startswith("scale_head.") for name in missing):
        raise ConfigError(f"cannot copy the encoder's weights (missing {missing}, unexpected {unexpected})")
    out.config.update({k: v for k, v in encoder.config.items() if k not in out.config})
    return out


ENCODER_CLASSES = {"Encoder": Encoder, "MaskEncoder": MaskEncoder}
