"""The spectrogram mask network shared by the mask-space encoder (:class:`priorsep.separation.
variational.MaskEncoder`) and the FactorGAN generator (:class:`priorsep.baselines.factorgan.FactorGAN`).

Input features: the level-free log-power spectrogram (:func:`log_power`) stacked at harmonic ratios
(:func:`harmonic_stack`), so whether a partial has the overtones of a square or a sawtooth, or is
itself an overtone, is read at its own bin rather than ``h * f`` bins away (harmonic stacking, as in
Bittner et al.'s harmonic CQT). Network (:class:`HarmonicUNet`): a 2-D U-Net that pools over
frequency only, each level also given the mean over frames (stationary evidence of a whole window).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError


def check_harmonics(harmonics) -> None:
    """Raise a :class:`ConfigError` unless ``harmonics`` is a non-empty list of positive frequency ratios."""
    if not harmonics or any(not h > 0 for h in harmonics):
        raise ConfigError(f"harmonics must be positive frequency ratios, got {harmonics}")


def log_power(spec: torch.Tensor) -> torch.Tensor:
    """Complex STFT ``(B, F, N)`` -> level-free log-power ``(B, F, N)`` (mean zero per item: the mix's
    loudness is not evidence; floored 80 dB below the item's peak)."""
    power = spec.abs().pow(2)
    feat = torch.log(power + 1e-8 * power.amax((1, 2), keepdim=True) + 1e-12)
    return feat - feat.mean((1, 2), keepdim=True)


def harmonic_stack(feat: torch.Tensor, harmonics: tuple[float, ...], position: bool) -> torch.Tensor:
    """``feat (B, F, N)`` -> ``(B, len(harmonics) + position, F, N)``: channel h is ``feat`` at ``h * f``
    for every bin f (linear interpolation between bins; above Nyquist: the item's minimum, silence);
    ``position`` adds the bin's frequency as a fraction of Nyquist."""
    if tuple(harmonics) == (1.0,) and not position:
        return feat[:, None]
    n_bins = feat.shape[1]
    floor = feat.amin((1, 2), keepdim=True)
    padded = torch.cat([feat, floor.expand(-1, 1, feat.shape[2])], 1)  # bin n_bins: silence
    bins = torch.arange(n_bins, dtype=feat.dtype, device=feat.device)
    chans = []
    for h in harmonics:
        pos = (bins * h).clamp(max=n_bins)
        lo = pos.floor().long().clamp(max=n_bins - 1)
        frac = (pos - lo).clamp(max=1.0)[None, :, None]
        hi = torch.where(pos > n_bins - 1, n_bins, lo + 1)  # past the last bin: interpolate towards silence
        chans.append(padded[:, lo] * (1 - frac) + padded[:, hi] * frac)
    if position:
        chans.append((bins / (n_bins - 1))[None, :, None].expand_as(feat))
    return torch.stack(chans, 1)


class HarmonicUNet(nn.Module):
    """``(B, c_in, F, N) -> (B, c_out, F, N)`` for any F and N: ``levels`` average-poolings over
    frequency (not time), GELU convolutions of ``hidden`` channels, nearest upsampling with skips,
    and the mean over frames appended at every level. ``out`` is the final 1x1 convolution (its
    initialisation is the subclass's choice)."""

    def __init__(self, c_in: int, c_out: int, hidden: int, levels: int):
        super().__init__()
        self.start = nn.Conv2d(c_in, hidden, 3, padding=1)
        self.down = nn.ModuleList(nn.Conv2d(2 * hidden, hidden, 3, padding=1) for _ in range(levels))
        self.up = nn.ModuleList(nn.Conv2d(3 * hidden, hidden, 3, padding=1) for _ in range(levels))
        self.out = nn.Conv2d(hidden, c_out, 1)

    @staticmethod
    def _with_context(h: torch.Tensor) -> torch.Tensor:
        """``h (B, C, F, N)`` with its mean over frames appended as ``C`` more channels."""
        return torch.cat([h, h.mean(-1, keepdim=True).expand_as(h)], 1)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer ``(B, hidden, F, N)``, before ``out``."""
        h = F.gelu(self.start(x))
        skips = []
        for conv in self.down:
            skips.append(h)
            h = F.gelu(conv(self._with_context(F.avg_pool2d(h, (2, 1), ceil_mode=True))))
        for conv in self.up:
            skip = skips.pop()
            h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
            h = F.gelu(conv(torch.cat([self._with_context(h), skip], 1)))
        return h
