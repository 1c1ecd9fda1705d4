"""Meta-TasNet (Samuel, Ganeshan & Naradowsky 2020; seed 000): Conv-TasNet extractors whose masking
networks' weights a generator predicts from a learned instrument embedding.

* **Encoder** (shared by the instruments): ``len(kernels)`` 1-D convolution heads of kernels
  ``W, W/2, ...`` and stride ``W/2``, concatenated with a learned linear projection of the mixture's
  log-magnitude STFT (the paper's learnable replacement of a mel filterbank), merged by
  Conv-ReLU-Conv (then ReLU) into the latent ``h (D, T')``.
* **Masking network** per instrument i: a TCN (Conv-TasNet's stacks of dilated depthwise-separable
  blocks with residual and skip paths, global layer norm, PReLU) ending in a sigmoid mask
  ``m_i (D, T')``. Every convolution weight and bias of block k is ``theta_k = W_k P_k e_i``
  (the paper's eq. 1): ``e_i`` the instrument's embedding (``embedding`` dims), ``P_k``
  (``generator_rank`` x ``embedding``) and ``W_k`` learned. The norms' affine and the PReLU slopes
  are shared across instruments (not generated). ``independent=True`` is the paper's ablation: each
  instrument owns its masking weights, no generator.
* **Decoder** (shared): Conv-ReLU, then one transposed convolution per encoder head on its share
  of the channels, summed.
* **Loss** (:meth:`training_loss`): negative SI-SNR of every source, plus the paper's auxiliary
  terms with weights ``aux_weights``: dissimilarity of different instruments' encodings in one
  sample, similarity of one instrument's encodings across samples, SI-SNR of the unmasked
  reconstruction ``decoder(encoder(mix))``.

Scaled to a CPU and 16 kHz audio, and said so: one stage (the paper's three stages at 8, 16 and
32 kHz are left out), latent ``D`` = 64 (paper 256-512), TCN bottleneck 32 / hidden 64, 2 x 4 blocks
(paper 3 x 8), embedding 16 / rank 8.
"""
from __future__ import annotations

import math
from itertools import combinations

import torch
import torch.nn.functional as F
from torch import nn

from ..dsp.overlap_add import overlap_add
from ..dsp.si_sdr import si_sdr_tensor
from ..dsp.stft import stft
from ..errors import ConfigError
from .base import SameLengthSeparator

DEFAULTS = dict(window=32, heads=3, latent=64, stft_features=32, n_fft=256, bottleneck=32, hidden=64,
                kernel=3, blocks=4, repeats=2, embedding=16, generator_rank=8, independent=False,
                aux_weights=[0.1, 0.1, 0.1], output_length=16384, segment=64000, channels=1)
SILENT_POWER = 1e-8  # mean power (-80 dB re full scale) below which a reference counts as silent


def _gln(x: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Global layer norm over channels and time of ``x (B, C, T)`` (Conv-TasNet's gLN)."""
    mean = x.mean(dim=(1, 2), keepdim=True)
    var = (x - mean).square().mean(dim=(1, 2), keepdim=True)
    return (x - mean) / torch.sqrt(var + 1e-8) * gain[:, None] + bias[:, None]


def mix_consistent_gains(est: torch.Tensor, mix: torch.Tensor, weights: list[float]) -> torch.Tensor:
    """Per-source gains ``(B, K)`` that make ``sum_k w_k g_k est_k`` closest to ``mix (B, T)`` in least
    squares (``est (B, K, T)``), lightly regularised towards 0 for silent or collinear estimates.
    A scale-invariant objective leaves each estimate's scale free; BSSEval's SDR and a user's ears
    are not scale-invariant (the paper rescales its estimates for BSSEval too), and these gains use
    the mixture only, no reference."""
    a = est * torch.as_tensor(weights, dtype=est.dtype, device=est.device)[:, None]  # (B, K, T)
    gram = a @ a.transpose(1, 2)  # (B, K, K)
    ridge = 1e-6 * gram.diagonal(dim1=1, dim2=2).mean(-1).clamp_min(1e-12)[:, None, None]
    eye = torch.eye(a.shape[1], dtype=est.dtype, device=est.device)
    return torch.linalg.solve(gram + ridge * eye, (a @ mix[:, :, None]))[..., 0]


class _Generated(nn.Module):
    """Per-instrument parameter vectors ``theta (K, size)``: ``W P e_i`` (a generator) or free (independent)."""

    def __init__(self, n_instruments: int, size: int, embedding: int, rank: int, std: float, independent: bool):
        super().__init__()
        self.independent = independent
        if independent:
            self.theta = nn.Parameter(torch.randn(n_instruments, size) * std)
        else:
            # e ~ N(0, 1) and P ~ N(0, 1/M) give P e ~ N(0, 1) per dim; W ~ N(0, std^2 / rank) then gives
            # theta entries of the usual initial scale std
            self.P = nn.Parameter(torch.randn(rank, embedding) / math.sqrt(embedding))
            self.W = nn.Parameter(torch.randn(size, rank) * std / math.sqrt(rank))

    def forward(self, embeddings: torch.Tensor | None) -> torch.Tensor:
        return self.theta if self.independent else embeddings @ self.P.T @ self.W.T


class MetaTasNet(SameLengthSeparator):
    """``forward(mix (B, 1, T)) -> (B, K, 1, T)``; ``training_loss(mix, sources)`` is its objective."""

    kind = "metatasnet"

    def __init__(self, config: dict):
        config = {**DEFAULTS, **config}
        super().__init__(config)
        c = self.config
        w, heads = c["window"], c["heads"]
        if c["channels"] != 1:
            raise ConfigError("Meta-TasNet takes one channel (a multi-channel mix is separated channel by channel)")
        if heads < 1 or w % 2 ** heads or w < 4:
            raise ConfigError(f"Meta-TasNet needs heads >= 1 and a window divisible by 2^heads, got {c}")
        if len(c["aux_weights"]) != 3 or min(c["aux_weights"]) < 0:
            raise ConfigError(f"aux_weights: three non-negative weights (dissimilarity, similarity, "
                              f"reconstruction), got {c['aux_weights']}")
        k_src, d, b, h = len(self.names), c["latent"], c["bottleneck"], c["hidden"]
        self.stride = w // 2
        self.kernels = [w // 2**i for i in range(heads)]
        self.head_dims = [d // 2 ** (i + 1) for i in range(heads - 1)] + [d - sum(d // 2 ** (i + 1)
                                                                                for i in range(heads - 1))]
        # encoder: conv heads + STFT projection, merged by Conv-ReLU-Conv
        self.heads = nn.ModuleList(nn.Conv1d(1, n, k, self.stride, padding=k // 2)
                                   for n, k in zip(self.head_dims, self.kernels))
        self.spectral = nn.Conv1d(c["n_fft"] // 2 + 1, c["stft_features"], 1)
        self.merge = nn.Sequential(nn.Conv1d(d + c["stft_features"], d, 1), nn.ReLU(), nn.Conv1d(d, d, 1), nn.ReLU())
        # decoder: Conv-ReLU, one transposed conv per head
        self.unmerge = nn.Sequential(nn.Conv1d(d, d, 1), nn.ReLU())
        self.unheads = nn.ModuleList(nn.ConvTranspose1d(n, 1, k, self.stride, padding=k // 2)
                                     for n, k in zip(self.head_dims, self.kernels))
        # masking networks: generated (or independent) TCN parameters per instrument
        self.embeddings = None if c["independent"] else nn.Parameter(torch.randn(k_src, c["embedding"]))

        def generated(size: int, fan_in: int) -> _Generated:
            return _Generated(k_src, size, c["embedding"], c["generator_rank"], 1 / math.sqrt(fan_in), c["independent"])

        self.bottleneck_in = generated(b * d + b, d)
        self.norm_in = nn.Parameter(torch.stack([torch.ones(d), torch.zeros(d)]))
        n_blocks = c["blocks"] * c["repeats"]
        self.block_sizes = [h * b + h, h * c["kernel"] + h, 2 * (b * h + b)]
        self.blocks = nn.ModuleList(generated(sum(self.block_sizes), b) for _ in range(n_blocks))
        self.block_norms = nn.Parameter(torch.stack([torch.ones(n_blocks, 2, h), torch.zeros(n_blocks, 2, h)], 1))
        self.block_slopes = nn.Parameter(torch.full((n_blocks, 2), 0.25))
        self.mask_out = generated(d * b + d, b)
        self.mask_slope = nn.Parameter(torch.tensor(0.25))

    @property
    def label(self) -> str:
        return "Meta-TasNet (independent)" if self.config["independent"] else "Meta-TasNet"

    # -- encoder / decoder -------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``x (B, T)``, ``T`` a multiple of the stride -> latent ``h (B, D, T / stride + 1)``."""
        conv = torch.cat([head(x[:, None]) for head in self.heads], dim=1)
        spec = stft(x, self.config["n_fft"], self.stride).abs()
        spec = torch.log1p(spec / (spec.mean(dim=(1, 2), keepdim=True) + 1e-8))  # level-normalised log magnitude
        return self.merge(torch.cat([conv, self.spectral(spec)], dim=1))

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """``h (N, D, T')`` -> waveforms ``(N, (T' - 1) * stride)``."""
        parts = self.unmerge(h).split(self.head_dims, dim=1)
        return sum(un(p) for un, p in zip(self.unheads, parts))[:, 0]

    # -- masking networks ----------------------------------------------------------------------
    def _tcn(self, h: torch.Tensor, i: int) -> torch.Tensor:
        """Instrument ``i``'s mask ``(B, D, T')`` of the latent ``h (B, D, T')``."""
        c, e = self.config, self.embeddings
        d, b, hid, p = c["latent"], c["bottleneck"], c["hidden"], c["kernel"]
        theta = self.bottleneck_in(e)[i]
        x = F.conv1d(_gln(h, *self.norm_in), theta[:b * d].view(b, d, 1), theta[b * d:])
        skip = 0
        for n, gen in enumerate(self.blocks):
            t1, t2, t3 = gen(e)[i].split(self.block_sizes)
            y = F.conv1d(x, t1[:hid * b].view(hid, b, 1), t1[hid * b:])
            y = _gln(F.prelu(y, self.block_slopes[n, :1]), *self.block_norms[n, :, 0])
            dilation = 2 ** (n % c["blocks"])
            y = F.conv1d(y, t2[:hid * p].view(hid, 1, p), t2[hid * p:], padding=dilation * (p - 1) // 2,
                         dilation=dilation, groups=hid)
            y = _gln(F.prelu(y, self.block_slopes[n, 1:]), *self.block_norms[n, :, 1])
            res, sk = t3.split(b * hid + b)
            x = x + F.conv1d(y, res[:b * hid].view(b, hid, 1), res[b * hid:])
            skip = skip + F.conv1d(y, sk[:b * hid].view(b, hid, 1), sk[b * hid:])
        theta = self.mask_out(e)[i]
        return torch.sigmoid(F.conv1d(F.prelu(skip, self.mask_slope[None]), theta[:d * b].view(d, b, 1), theta[d * b:]))

    # -- separation ----------------------------------------------------------------------------
    def _padded(self, mix: torch.Tensor) -> tuple[torch.Tensor, int]:
        t = mix.shape[-1]
        return F.pad(mix, (0, -t % self.stride)), t

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, 1, T)`` -> sources ``(B, K, 1, T)``, each rescaled by :func:`mix_consistent_gains`
        (the SI-SNR objective leaves the estimates' scale free)."""
        x, t = self._padded(mix[:, 0])
        h = self.encode(x)
        est = torch.stack([self.decode(h * self._tcn(h, i)) for i in range(len(self.names))], dim=1)[..., :t]
        return (est * mix_consistent_gains(est, mix[:, 0], self.weights)[..., None]).unsqueeze(2)

    def separate_tensor(self, mix: torch.Tensor) -> torch.Tensor:
        """Any length: segments of ``segment`` samples (the global layer norms make a segment's output
        depend on the whole segment), half-overlapping and cross-faded
        (:func:`priorsep.dsp.overlap_add.overlap_add`)."""
        est = overlap_add(lambda x: self(x[:, None])[:, :, 0], mix[:, 0], self.config["segment"],
                          multiple=self.stride, min_length=self.config["n_fft"])
        return est[:, :, None]

    def training_loss(self, mix: torch.Tensor, sources: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """``mix (B, 1, T)``, ``sources (B, K, 1, T)`` -> (loss, its terms): negative SI-SNR of every
        estimate whose reference sounds (mean power above ``SILENT_POWER``) plus ``aux_weights`` times
        (dissimilarity, similarity, negative SI-SNR of the unmasked reconstruction) of the paper's
        section 3.2."""
        x, t = self._padded(mix[:, 0])
        h = self.encode(x)
        k_src, n = len(self.names), mix.shape[0]
        est = torch.stack([self.decode(h * self._tcn(h, i)) for i in range(k_src)], dim=1)[..., :t]
        # a silent reference (a stem that rests in the crop) has no SI-SNR: only sounding ones count
        sounding = sources[:, :, 0].square().mean(-1) > SILENT_POWER
        sisnr = -(si_sdr_tensor(est, sources[:, :, 0]) * sounding).sum() / sounding.sum().clamp_min(1)
        hs = self.encode(self._padded(sources[:, :, 0].reshape(n * k_src, t))[0]).view(n, k_src, -1)
        unit = F.normalize(hs, dim=-1)
        diss = torch.stack([(unit[:, i].abs() * unit[:, j].abs()).sum(-1) for i, j in combinations(range(k_src), 2)])
        sim = -torch.stack([(unit[a] * unit[b]).sum(-1) for a, b in combinations(range(n), 2)]) if n > 1 else \
            torch.zeros(1, device=mix.device)
        rec = -si_sdr_tensor(self.decode(h)[..., :t], mix[:, 0]).mean()
        wd, ws, wr = self.config["aux_weights"]
        loss = sisnr + wd * diss.mean() + ws * sim.mean() + wr * rec
        return loss, {"neg_si_snr": sisnr.item(), "dissimilarity": diss.mean().item(), "similarity": sim.mean().item(),
                      "reconstruction": rec.item()}
