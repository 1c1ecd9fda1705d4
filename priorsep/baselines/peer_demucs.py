"""Demucs (Défossez et al. 2019/2021) from its own package, as a priorsep baseline.

The network is ``demucs.demucs.Demucs`` (the waveform U-Net of Demucs v2/v3: strided convolution
encoder with residual DConv branches, transposed-convolution decoder, skip connections) and
separation runs through ``demucs.apply.apply_model`` (overlapping segments, triangular
cross-fades): nothing of the model is rewritten here; this class only holds its hyper-parameters
in a priorsep config so that it trains, saves, loads, resumes and benchmarks like every baseline.
No pretrained weights exist here: it is trained on the same stems as the priors
(``priorsep train-baseline --model demucs``).

Needs the optional extra ``pip install 'priorsep[peers]'`` (``demucs``, which installs beside
torch 2.13.0; Open-Unmix and asteroid do not: both require torchaudio, whose newest release pins an
older torch). Scaled to a CPU: ``levels`` (Demucs's ``depth``) and ``features`` (its first layer's
``channels``) default to 4 and 24 instead of 6 and 64, no input resampling (16 kHz band audio),
the DConv LSTM only in the deepest layer and no DConv attention.
"""
from __future__ import annotations

import torch

from ..errors import ConfigError, MissingExtraError
from .base import SameLengthSeparator

DEFAULTS = dict(levels=4, features=24, output_length=16384, channels=1, lstm_layers=0, dconv_lstm=3,
                dconv_attn=99, segment_seconds=4.0, overlap=0.25)


def _demucs():
    try:
        import demucs.apply
        import demucs.demucs
    except ImportError as e:
        raise MissingExtraError(f"the Demucs baseline needs the 'demucs' package ({e}); install the optional "
                                "extra: pip install 'priorsep[peers]'") from None
    return demucs


class DemucsSeparator(SameLengthSeparator):
    """``forward(mix (B, C, T)) -> (B, K, C, T)`` for crops of ``output_length`` samples (any length
    works; training uses that one). ``separate_tensor`` uses Demucs's own ``apply_model``."""

    kind = "demucs"
    label = "Demucs"

    def __init__(self, config: dict):
        config = {**DEFAULTS, **config}
        super().__init__(config)
        c = self.config
        if c["levels"] < 1 or c["features"] < 1 or c["output_length"] < 1:
            raise ConfigError(f"Demucs needs levels, features and output_length >= 1, got {c}")
        if not 0 <= c["overlap"] < 1 or c["segment_seconds"] <= 0:
            raise ConfigError(f"Demucs needs 0 <= overlap < 1 and segment_seconds > 0, got {c}")
        self.net = _demucs().demucs.Demucs(
            list(self.names), audio_channels=self.channels, channels=c["features"], depth=c["levels"],
            lstm_layers=c["lstm_layers"], dconv_lstm=c["dconv_lstm"], dconv_attn=c["dconv_attn"],
            resample=False, samplerate=self.sample_rate, segment=c["segment_seconds"])

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T)`` -> sources ``(B, K, C, T)``."""
        return self.net(mix)

    def separate_tensor(self, mix: torch.Tensor) -> torch.Tensor:
        """Any length: Demucs's ``apply_model`` (segments of ``segment_seconds`` with ``overlap``, no
        random shifts, so the same mix gives the same estimate)."""
        return _demucs().apply.apply_model(self.net, mix, shifts=0, split=True, overlap=self.config["overlap"],
                                           progress=False)
