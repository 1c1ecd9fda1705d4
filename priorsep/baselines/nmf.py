"""NMF dictionaries, one per source, each learnt from that source's solo recordings alone: the
classical independent spectral prior (Smaragdis et al. 2007; Févotte et al. 2009, the β-divergence).

Source k's magnitude spectrogram is modelled as ``W_k H_k``: a fixed dictionary ``W_k (context * F, R)``
of ``rank`` spectral shapes, each ``context`` consecutive STFT frames long (so a shape can hold an
attack and its decay; the frames are stacked by :func:`priorsep.dsp.nmf.shingle`, and each frame's
estimate is the mean of its ``context`` reconstructions). ``W_k`` is learnt by
:func:`priorsep.training.nmf.train_nmf`, or drawn as exemplars by :func:`~priorsep.training.nmf.draw_exemplars`,
from solo stems of source k only (no mixture, no other source: the same data and independence as a
prior of :mod:`priorsep.priors`); the activations
``H_k (R, windows)`` are fitted to each mixture. Separation fits all activations at once to the mix's
magnitude with every dictionary held fixed, then splits the mix's complex STFT by the Wiener-like
masks ``(W_k H_k)^p / sum_j (W_j H_j)^p`` (``mask_power`` p; p = 2 would be the Wiener filter of a
Gaussian model's variances; p = 1, the default, scored 0.66 dB more on band validation music). An
optional L1 penalty (``sparsity``) favours few active shapes. The
estimates therefore mix back to the input exactly. No randomness: the same mix gives the same output.
"""
from __future__ import annotations

import torch

from ..dsp.nmf import EPS, beta_nmf, shingle, unshingle
from ..errors import ConfigError
from .base import SpectralModelSeparator

# the dictionaries' dtype in memory and on disk: float16 halves the file of large exemplar dictionaries
STORAGE = {"float32": torch.float32, "float16": torch.float16}
DEFAULTS = dict(n_fft=2048, hop=512, rank=32, beta=0.5, iterations=200, mask_power=1.0, context=1, sparsity=0.0,
                storage="float32")


class NMFSeparator(SpectralModelSeparator):
    """``separate_tensor(mixes (B, C, T)) -> (B, K, C, T)``;
    ``dictionaries (K, context * (n_fft // 2 + 1), rank)``."""

    kind = "nmf"
    noun = "NMF separation"

    def __init__(self, config: dict):
        config = {**DEFAULTS, **config}
        super().__init__(config)
        c = self.config
        if (c["n_fft"] < 2 or not 0 < c["hop"] <= c["n_fft"] or c["rank"] < 1 or c["iterations"] < 1
                or c["context"] < 1):
            raise ConfigError("NMF needs n_fft >= 2, 0 < hop <= n_fft, rank >= 1, iterations >= 1 and context >= 1, "
                              f"got {c}")
        if not 0 <= c["beta"] <= 2 or c["mask_power"] <= 0 or c["sparsity"] < 0:
            raise ConfigError("NMF needs beta in [0, 2], mask_power > 0 and sparsity >= 0, got "
                              f"{c['beta']}, {c['mask_power']}, {c['sparsity']}")
        if c["storage"] not in STORAGE:
            raise ConfigError(f"NMF storage must be one of {sorted(STORAGE)}, got {c['storage']!r}")
        rows = c["context"] * (c["n_fft"] // 2 + 1)  # the frames of a shape, stacked
        # held and saved in the storage dtype; separation computes in the mix's dtype
        self.register_buffer("dictionaries", torch.zeros(len(self.names), rows, c["rank"], dtype=STORAGE[c["storage"]]))

    @property
    def label(self) -> str:
        """Benchmark row name: ``NMF dictionaries`` (learnt shapes of one frame), ``NMF exemplars``
        (drawn from the solo stems; ``NMF spread exemplars``: picked far apart), with ``, N frames``
        where the shapes span several frames."""
        training = self.config.get("training", {})
        name = "NMF dictionaries"
        if training.get("exemplars"):
            name = "NMF spread exemplars" if training.get("pick") == "spread" else "NMF exemplars"
        return name + (f", {self.config['context']} frames" if self.config["context"] > 1 else "")

    @property
    def paired_items(self) -> int:
        return 0  # every dictionary is learnt from one source's solo stems

    def activations(self, magnitude: torch.Tensor) -> torch.Tensor:
        """``magnitude (N, F, frames)`` of mixes -> activations ``(N, K, rank, frames + context - 1)`` (one
        per window of ``context`` frames) with every dictionary held fixed (deterministic start: each
        activation at the mean of the mix's windows; the L1 penalty ``sparsity`` is relative to that mean)."""
        return self._activations(magnitude, self.dictionaries.to(magnitude.dtype))

    def _activations(self, magnitude: torch.Tensor, dictionaries: torch.Tensor) -> torch.Tensor:
        """:meth:`activations` with the dictionaries already in the magnitude's dtype (converted once per call)."""
        k, rows, r = dictionaries.shape
        v = shingle(magnitude, self.config["context"], pad=True)
        w = dictionaries.permute(1, 0, 2).reshape(rows, k * r)
        mean = v.mean((-2, -1), keepdim=True)
        h = mean.expand(-1, k * r, v.shape[-1]) + EPS
        _, h = beta_nmf(v, w, h, self.config["iterations"], self.config["beta"], update_dictionary=False,
                        sparsity=self.config["sparsity"] * mean)
        return h.reshape(len(magnitude), k, r, -1)

    def parts(self, spec: torch.Tensor) -> torch.Tensor:
        magnitude = spec.abs()
        w = self.dictionaries.to(magnitude.dtype)  # a copy only where stored as float16
        h = self._activations(magnitude, w)
        return unshingle(w[None] @ h, self.config["context"], spec.shape[-1])  # (BC, K, F, N)
