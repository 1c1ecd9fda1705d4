"""Encoder networks q_phi(s | m): mixtures ``(B, T)`` -> means and scales ``(B, K, T)``."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..dsp.masks import masked_sources
from ..dsp.stft import stft
from ..errors import ConfigError
from ..nn.harmonic_unet import HarmonicUNet, check_harmonics, harmonic_stack, log_power


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
    """

    def __init__(self, weights: list[float], hidden: int = 32, levels: int = 5, n_fft: int = 1024, hop: int = 256,
                 init_scale: float = 0.1, harmonics: tuple[float, ...] = (1.0,), position: bool = False):
        if hop < 1 or hop > n_fft // 2:
            raise ConfigError(f"need 1 <= hop <= n_fft / 2, got n_fft={n_fft}, hop={hop}")
        check_harmonics(harmonics)
        k = len(weights)
        super().__init__(len(harmonics) + bool(position), k, hidden, levels)
        self.config = dict(weights=list(map(float, weights)), hidden=hidden, levels=levels, n_fft=n_fft, hop=hop,
                           init_scale=init_scale, harmonics=list(map(float, harmonics)), position=bool(position))
        self.n_fft, self.hop = n_fft, hop
        self.harmonics, self.position = tuple(map(float, harmonics)), bool(position)
        nn.init.zeros_(self.out.weight)
        self.register_buffer("w", torch.tensor(weights, dtype=torch.float32))
        with torch.no_grad():
            self.out.bias.copy_(torch.log(self.w**2))
        self.log_scale = nn.Parameter(torch.full((k,), math.log(init_scale)))

    @property
    def length_multiple(self) -> int:
        return 1

    def logits(self, spec: torch.Tensor) -> torch.Tensor:
        """Mask logits ``(B, K, F, N)`` from the mixtures' complex STFT ``spec (B, F, N)``."""
        return self.trunk(harmonic_stack(log_power(spec), self.harmonics, self.position))

    def forward(self, mix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, t = mix.shape
        if t <= self.n_fft // 2:
            raise ConfigError(f"mask encoder input length {t} must exceed n_fft / 2 = {self.n_fft // 2} samples")
        spec = stft(mix, self.n_fft, self.hop)
        loc = masked_sources(self.logits(spec), spec, self.w, self.n_fft, self.hop, t)
        return loc, torch.exp(self.log_scale)[None, :, None].expand(b, -1, t)


ENCODER_CLASSES = {"Encoder": Encoder, "MaskEncoder": MaskEncoder}
