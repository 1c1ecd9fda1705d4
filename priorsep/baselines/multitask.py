"""Shared-encoder multitask separator (Doire & Okubadejo 2019; seed 001): one encoder for every
source, one decoder per source, trained on the mixture's magnitude spectrogram.

The encoder alternates strided (downsampling) and unit-stride 3x3 convolutions, each followed by
batch norm and LeakyReLU(0.2), doubling the feature maps per stage. Each decoder alternates
nearest-neighbour upsampling + 3x3 convolution with the concatenation of the encoder's features at
that resolution, halving the feature maps, and ends with the paper's feature-map average and a
ReLU: a non-negative magnitude estimate of its source (no soft mask, as in the paper). Input
magnitudes are divided per frequency bin by a scale fitted on training mixtures (the paper's
per-bin standardisation; buffer ``bin_scale``). Estimates take the mixture's phase.

The point of the architecture is its training (:mod:`priorsep.training.multitask`):
``training_mode="interleaved"`` alternates mini-batches of per-source databases (a mixture and
*one* source's target each), so no mix needs a full set of stems; ``"simultaneous"`` fits every
decoder on every mix (all stems needed). Scaled to a CPU: ``features`` 8 (paper 16), at most
``max_features`` 128 maps (paper 256), STFT of 1024 samples at 16 kHz (paper 2048 at 44.1 kHz).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..dsp.stft import istft, stft
from ..errors import ConfigError
from .base import BaselineSeparator

DEFAULTS = dict(n_fft=1024, hop=256, features=8, max_features=128, levels=5, patch_frames=64,
                inference_frames=1024, training_mode="interleaved", channels=1)
MODES = {"interleaved": "Interleaved multitask", "simultaneous": "Simultaneous multitask"}


def _conv(n_in: int, n_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(n_in, n_out, 3, stride, 1), nn.BatchNorm2d(n_out), nn.LeakyReLU(0.2))


class _Decoder(nn.Module):
    """Features at every resolution (finest first) -> one source's normalised magnitude ``(B, F, T)``."""

    def __init__(self, widths: list[int]):
        super().__init__()
        self.up = nn.ModuleList(_conv(widths[i], widths[i - 1]) for i in range(len(widths) - 1, 0, -1))
        self.merge = nn.ModuleList(_conv(2 * widths[i - 1], widths[i - 1]) for i in range(len(widths) - 1, 0, -1))

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        x = feats[-1]
        for up, merge, skip in zip(self.up, self.merge, reversed(feats[:-1])):
            x = up(F.interpolate(x, scale_factor=2.0, mode="nearest"))
            x = merge(torch.cat([x, skip], dim=1))
        return F.relu(x.mean(dim=1))  # the paper's feature-map averaging layer, then ReLU


class SharedEncoderSeparator(BaselineSeparator):
    """``forward(mag (B, F, T)) -> (B, K, F, T)``: normalised magnitudes (see :meth:`normalised_magnitude`)
    of ``F = n_fft // 2`` bins (the Nyquist bin is left out and estimated as 0) and ``T`` frames, a
    multiple of ``2 ** levels``. ``decode(mag, k)`` runs the encoder and decoder ``k`` only."""

    kind = "multitask"

    def __init__(self, config: dict):
        config = {**DEFAULTS, **config}
        super().__init__(config)
        c = self.config
        if c["training_mode"] not in MODES:
            raise ConfigError(f"training_mode must be one of {sorted(MODES)}, got {c['training_mode']!r}")
        if c["levels"] < 1 or c["features"] < 1 or c["n_fft"] % 2 ** (c["levels"] + 1) or c["hop"] < 1:
            raise ConfigError(f"multitask separator needs levels, features, hop >= 1 and n_fft divisible by "
                              f"2^(levels + 1), got {c}")
        if c["channels"] != 1:
            raise ConfigError("the multitask separator takes one channel (a multi-channel mix is separated channel "
                              f"by channel), got channels={c['channels']}")
        grid = 2 ** c["levels"]
        if c["patch_frames"] % grid or c["inference_frames"] % grid:
            raise ConfigError(f"patch_frames and inference_frames must be multiples of 2^levels = {grid}")
        widths = [min(c["features"] * 2 ** i, c["max_features"]) for i in range(c["levels"] + 1)]
        self.stem = _conv(1, widths[0])
        self.down = nn.ModuleList(nn.Sequential(_conv(widths[i - 1], widths[i], stride=2), _conv(widths[i], widths[i]))
                                  for i in range(1, len(widths)))
        self.decoders = nn.ModuleList(_Decoder(widths) for _ in self.names)
        self.register_buffer("bin_scale", torch.ones(c["n_fft"] // 2, 1))

    @property
    def label(self) -> str:
        return MODES[self.config["training_mode"]]

    @property
    def bins(self) -> int:
        return self.config["n_fft"] // 2

    # -- spectrograms -------------------------------------------------------------------------
    def spectrogram(self, x: torch.Tensor) -> torch.Tensor:
        """Complex STFT of ``x (..., T)`` -> ``(..., n_fft // 2 + 1, frames)``."""
        return stft(x, self.config["n_fft"], self.config["hop"])

    def normalised_magnitude(self, x: torch.Tensor) -> torch.Tensor:
        """``x (..., T)`` -> ``|STFT| / bin_scale`` of the first ``n_fft // 2`` bins, ``(..., F, frames)``."""
        return self.spectrogram(x).abs()[..., :self.bins, :] / self.bin_scale

    @torch.no_grad()
    def fit_bin_scale(self, mixes: torch.Tensor) -> None:
        """Set the per-bin scale to the standard deviation (RMS) of the mixtures' magnitudes ``mixes (N, T)``."""
        mag = self.spectrogram(mixes).abs()[..., :self.bins, :]
        self.bin_scale.copy_(mag.square().mean(dim=(0, 2)).sqrt().clamp_min(1e-6)[:, None])

    # -- network ------------------------------------------------------------------------------
    def encode(self, mag: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(mag[:, None])
        feats = [x]
        for down in self.down:
            x = down(x)
            feats.append(x)
        return feats

    def decode(self, mag: torch.Tensor, k: int) -> torch.Tensor:
        """Source ``k``'s normalised magnitude ``(B, F, T)`` from the mixture's ``mag (B, F, T)``."""
        return self.decoders[k](self.encode(mag))

    def forward(self, mag: torch.Tensor) -> torch.Tensor:
        feats = self.encode(mag)
        return torch.stack([dec(feats) for dec in self.decoders], dim=1)

    def separate_tensor(self, mix: torch.Tensor) -> torch.Tensor:
        """Any length: magnitudes estimated in chunks of ``inference_frames`` frames (zero-padded to
        the grid), each source's magnitude with the mixture's phase, inverted by the library's ISTFT."""
        b, ch, t = mix.shape
        spec = self.spectrogram(mix.reshape(b * ch, t))  # (B*C, F+1, frames)
        mag = spec.abs()[:, :self.bins] / self.bin_scale
        frames, grid, chunk = mag.shape[-1], 2 ** self.config["levels"], self.config["inference_frames"]
        est = []
        for start in range(0, frames, chunk):
            part = mag[..., start:start + chunk]
            pad = -part.shape[-1] % grid
            est.append(self(F.pad(part, (0, pad)))[..., :part.shape[-1]])
        est = torch.cat(est, dim=-1) * self.bin_scale  # (B*C, K, F, frames)
        est = F.pad(est, (0, 0, 0, 1))  # the Nyquist bin: 0
        phase = spec / spec.abs().clamp_min(1e-8)
        out = istft(est * phase[:, None], self.config["n_fft"], self.config["hop"], t)  # (B*C, K, T)
        return out.reshape(b, ch, len(self.names), t).transpose(1, 2)
