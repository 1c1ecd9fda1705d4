"""Wave-U-Net (Stoller et al. 2018; seed 002, ch. 5.2): supervised end-to-end separation on the waveform.

A 1-D U-Net with ``levels`` downsampling blocks (valid conv of ``down_kernel`` taps with
``features * i`` filters, LeakyReLU, decimation by 2), a bottleneck conv, and upsampling blocks
(linear interpolation n -> 2n - 1, concat of the centre-cropped skip features, valid conv of
``up_kernel`` taps). All convolutions are *valid* (variant M3+): the network sees real input
context around every output sample instead of zero padding, so the output is shorter than the
input and separating a long mix is plain frame-by-frame tiling without seams. The output layer is
the *difference layer*: K-1 sources from a 1x1 conv + tanh, the last one from the mix
(:func:`priorsep.mixing.complete_sources`), so the estimates mix back to the input exactly.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..mixing import complete_sources
from .base import BaselineSeparator
from ..errors import ConfigError

DEFAULTS = dict(levels=7, features=16, down_kernel=15, up_kernel=5, channels=1, output_length=4097,
                inference_output_length=16385, output_activation="tanh", norm="none")


def _decimate(x: torch.Tensor) -> torch.Tensor:
    """Keep every second step of an odd-length map: n -> (n + 1) / 2, both ends kept."""
    return x[..., ::2]


def _upsample(x: torch.Tensor) -> torch.Tensor:
    """Linear interpolation between neighbours only: n -> 2n - 1, no extrapolated border values."""
    mid = 0.5 * (x[..., :-1] + x[..., 1:])
    out = torch.stack([x[..., :-1], mid], dim=-1).flatten(-2)
    return torch.cat([out, x[..., -1:]], dim=-1)


def _centre_crop(x: torch.Tensor, length: int) -> torch.Tensor:
    extra = x.shape[-1] - length
    if extra < 0 or extra % 2:
        raise ConfigError(f"cannot centre-crop {x.shape[-1]} steps to {length}")
    return x[..., extra // 2: x.shape[-1] - extra // 2]


class WaveUNet(BaselineSeparator):
    """Wave-U-Net. ``forward(mix (B, C, input_length(L))) -> (B, K, C, L)`` for a valid output length L."""

    kind = "waveunet"
    label = "Wave-U-Net"

    def __init__(self, config: dict):
        config = {**DEFAULTS, **config}
        super().__init__(config)
        c = self.config
        lv, fc, fd, fu, ch = c["levels"], c["features"], c["down_kernel"], c["up_kernel"], c["channels"]
        if lv < 1 or fc < 1 or fd < 1 or fu < 1 or fd % 2 == 0 or fu % 2 == 0:
            raise ConfigError(f"Wave-U-Net needs levels, features >= 1 and odd kernel sizes, got {c}")
        if c["output_activation"] not in ("tanh", "identity"):
            raise ConfigError(f"output_activation must be 'tanh' or 'identity', got {c['output_activation']!r}")
        if c["norm"] not in ("none", "batch"):
            raise ConfigError(f"norm must be 'none' or 'batch', got {c['norm']!r}")

        def block(n_in: int, n_out: int, kernel: int) -> nn.Module:
            # batch norm (running statistics at inference) keeps frames independent of their length;
            # a per-frame norm would make the tiling depend on the frame size
            conv = nn.Conv1d(n_in, n_out, kernel)
            if c["norm"] == "batch":
                return nn.Sequential(conv, nn.BatchNorm1d(n_out), nn.LeakyReLU(0.2))
            return nn.Sequential(conv, nn.LeakyReLU(0.2))

        self.down = nn.ModuleList(block(ch if i == 1 else fc * (i - 1), fc * i, fd) for i in range(1, lv + 1))
        self.bottleneck = block(fc * lv, fc * (lv + 1), fd)
        # up block i takes the level-(i+1) features (upsampled) and the skip of down block i
        self.up = nn.ModuleList(block(fc * (i + 1) + fc * i, fc * i, fu) for i in range(1, lv + 1))
        n_out = len(self.names) - 1
        self.out = nn.Conv1d(fc + ch, n_out * ch, 1)
        self._lengths: dict = {}  # cached shape searches
        self.output_length = self.valid_output_length(c["output_length"])
        self.input_length = self.input_length_for(self.output_length)

    # -- shapes -----------------------------------------------------------------------------
    def _output_for_input(self, n: int) -> int | None:
        """Output length for an input of ``n`` samples, or None if some map would be invalid."""
        fd, fu, lv = self.config["down_kernel"], self.config["up_kernel"], self.config["levels"]
        skips = []
        for _ in range(lv):
            n -= fd - 1
            if n < 1 or n % 2 == 0:  # decimation keeps both ends only for odd lengths
                return None
            skips.append(n)
            n = (n + 1) // 2
        n -= fd - 1
        if n < 2:
            return None
        for skip in reversed(skips):
            n = 2 * n - 1
            if n > skip or (skip - n) % 2:
                return None
            n -= fu - 1
            if n < 1:
                return None
        return n

    def input_length_for(self, output_length: int) -> int:
        """The input length whose output is ``output_length`` samples (which must be valid)."""
        key = ("in", output_length)
        if key not in self._lengths:
            self._lengths[key] = self._search_input_length(output_length)
        return self._lengths[key]

    def _search_input_length(self, output_length: int) -> int:
        n = output_length
        while n < output_length + 1_000_000:
            out = self._output_for_input(n)
            if out is not None and out >= output_length:
                if out != output_length:
                    raise ConfigError(f"{output_length} is not a valid Wave-U-Net output length; "
                                     f"use valid_output_length()")
                return n
            n += 1
        raise ConfigError(f"no input length gives {output_length} output samples")

    def valid_output_length(self, at_least: int) -> int:
        """The smallest valid output length >= ``at_least``."""
        key = ("out", at_least)
        if key in self._lengths:
            return self._lengths[key]
        n = at_least
        while True:
            out = self._output_for_input(n)
            if out is not None and out >= at_least:
                self._lengths[key] = out
                return out
            n += 1

    @property
    def context(self) -> tuple[int, int]:
        """Input samples needed (before, after) each output frame."""
        extra = self.input_length - self.output_length
        return extra // 2, extra - extra // 2

    # -- network ----------------------------------------------------------------------------
    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T_in)`` with a valid input length -> sources ``(B, K, C, T_out)``."""
        b, ch, t_in = mix.shape
        x, skips = mix, []
        for down in self.down:
            x = down(x)
            skips.append(x)
            x = _decimate(x)
        x = self.bottleneck(x)
        for up, skip in zip(reversed(self.up), reversed(skips)):
            x = _upsample(x)
            x = up(torch.cat([x, _centre_crop(skip, x.shape[-1])], dim=1))
        centre = _centre_crop(mix, x.shape[-1])
        partial = self.out(torch.cat([x, centre], dim=1))
        if self.config["output_activation"] == "tanh":
            partial = torch.tanh(partial)
        partial = partial.reshape(b, len(self.names) - 1, ch, -1)
        return complete_sources(partial.transpose(1, 2), centre, self.weights).transpose(1, 2)

    def separate_tensor(self, mix: torch.Tensor) -> torch.Tensor:
        """Any length: the mix is zero-padded by the context (silence before and after the file) and
        cut into frames of about ``inference_output_length`` outputs. Frames start at multiples of
        2^levels, the decimation grid, so every output sample is computed exactly as one frame
        spanning the whole mix would compute it: the tiling has no seams."""
        b, ch, t = mix.shape
        grid = 2 ** self.config["levels"]
        out_len = self.valid_output_length(max(grid, min(self.config["inference_output_length"], t)))
        hop = out_len // grid * grid
        in_len = self.input_length_for(out_len)
        before = (in_len - out_len) // 2
        n_frames = -(-t // hop)
        padded = F.pad(mix, (before, (n_frames - 1) * hop + in_len - before - t))
        frames = padded.unfold(-1, in_len, hop)  # (B, C, n_frames, in_len)
        frames = frames.permute(0, 2, 1, 3).reshape(b * n_frames, ch, in_len)
        est = torch.cat([self(f)[..., :hop] for f in frames.split(8)])  # (B * n_frames, K, C, hop)
        est = est.reshape(b, n_frames, len(self.names), ch, hop).permute(0, 2, 3, 1, 4)
        return est.reshape(b, len(self.names), ch, n_frames * hop)[..., :t]
