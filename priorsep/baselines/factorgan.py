"""FactorGAN separator (Stoller et al. 2020; seed 002, section 3.3.2.4): a masking network trained
adversarially with one marginal discriminator per source plus p- and q-dependency discriminators.

Spectrograms: :func:`priorsep.stft.stft` with ``n_fft``/``hop`` (all ``n_fft // 2 + 1`` bins).

Generator (:class:`FactorGAN`): a :class:`~priorsep.harmonic_unet.HarmonicUNet` (pooling over
frequency only, the mean over frames at every level) on the mix's level-free log-power stacked at
the ratios ``harmonics`` plus a frequency channel, and one channel of Gaussian noise z. It outputs
K mask logits; a softmax over the source axis makes the masks sum to one, so they *distribute* the
mix: w_k S_k = mask_k M, i.e. S_k = mask_k M / w_k. The input-output relation
p(m | s) = delta(m - sum_k w_k s_k) therefore holds by construction and the discriminators only need
the source tuple, not the mix (eq. 3.11). Time-domain estimates use the mixture phase. Mixes are
separated in half-overlapping windows of the training crop's length (the context the frame means
were trained on), cross-faded (:func:`~priorsep.separation.overlap_add.overlap_add`).

This generator replaced a thesis-style U-Net (2x2 max-pooling, n_fft 512, a log-band front end).
Neither separates the toy data when trained adversarially only (collapse: sources' slots go silent;
``benchmarks/results/baselines/README.md``); the bundled ``factorgan-toy`` is trained with a
supervised warm start and a supervised anchor (:func:`priorsep.training.factorgan.train_factorgan`).
Trained *supervised* with an L1 loss on magnitudes
(``benchmarks/probes/factorgan_generator_probe.py``), the old one reached 3-7.5 dB in 600-1200 steps and this
one 4.7 dB in 1500; the same trunk with a waveform MSE (the variational ``MaskEncoder``) 8.5 dB.
It was kept for sharing one mask network with the mask-space encoder, not for a measured gain.

:class:`FactorGANDiscriminators` (training only, so not part of the separator's state_dict) read
log-band magnitudes ``log(1 + spec_gain * FB |S| / (n_fft / 4))``: a sinusoid of amplitude A peaks
at spec_gain * A before log1p (the hann window sums to n_fft / 2), independent of n_fft. Log-frequency
bands (:func:`log_filterbank`, from the first bin's frequency sample_rate / n_fft to Nyquist) give a
representation in which a note's partials have the same shape at every pitch; each discriminator
starts with a ``harmonic_kernel``-tall template convolution. Their level-free and level-row
features are experimental (:mod:`priorsep.experimental.factorgan`).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..errors import ConfigError
from ..nn.harmonic_unet import HarmonicUNet, check_harmonics, harmonic_stack, log_power
from ..dsp.masks import masked_sources
from ..dsp.overlap_add import overlap_add
from ..dsp.stft import stft
from .base import BaselineSeparator

DEFAULTS = dict(
    n_fft=1024,          # STFT window (samples)
    hop=256,             # STFT hop (samples)
    levels=6,            # generator U-Net poolings, each halving the frequency bins
    features=32,         # generator channels
    harmonics=[0.5, 1.0, 2.0, 3.0, 4.0, 5.0],  # frequency ratios of the generator's stacked input
    position=True,       # a frequency channel in the generator's input
    spec_gain=10.0,      # magnitude of a unit-amplitude sinusoid before log1p (see the module docstring)
    noise_seed=0,        # seed of the noise channel at inference, so that separate() is deterministic
    train_frames=9,      # STFT frames per training crop -> (train_frames - 1) * hop samples
    harmonic_kernel=49,  # odd height (log bands) of the first conv of every discriminator (0: none);
                         # 49 of 128 bands over 9 octaves span 3.4 octaves, a note's first 10 partials
    disc_features=16,    # channels of every discriminator's first conv, doubled per strided layer
    disc_max_features=64,
    disc_time_strides=2,  # discriminator layers that also halve the frames (train_frames >= 2**this)
    disc_bands=128,      # log-frequency bands the discriminators read (0: the linear STFT bins)
    disc_rows=16,        # frequency rows left after the discriminators' strided convs
    disc_hidden=256,     # hidden units of the discriminators' final MLP (0: a linear layer)
    channels=1,
)


class FactorGAN(BaselineSeparator):
    """The FactorGAN generator as a separator. ``config``: see :data:`DEFAULTS` (filled in)."""

    kind = "factorgan"

    def __init__(self, config: dict):
        super().__init__({**DEFAULTS, **config})
        c = self.config
        if c["n_fft"] % 2 or not 1 <= c["hop"] <= c["n_fft"] // 2:
            raise ConfigError(f"FactorGAN needs an even n_fft and 1 <= hop <= n_fft / 2, got n_fft={c['n_fft']}, "
                              f"hop={c['hop']}")
        if c["train_frames"] < 2 ** c["disc_time_strides"]:
            raise ConfigError(f"train_frames {c['train_frames']} < 2**disc_time_strides = "
                              f"{2 ** c['disc_time_strides']}")
        check_harmonics(c["harmonics"])
        if any(w == 0 for w in self.weights):
            raise ConfigError("FactorGAN needs non-zero mixing weights (estimates are divided by w_k)")
        # input: stacked log-power (+ frequency) + one noise channel; output: one mask logit per source
        self.generator = HarmonicUNet(len(c["harmonics"]) + bool(c["position"]) + 1, len(self.names),
                                      int(c["features"]), int(c["levels"]))
        nn.init.zeros_(self.generator.out.weight)  # start from uniform masks: every estimate is the mix
        nn.init.zeros_(self.generator.out.bias)

    @property
    def label(self) -> str:
        """Benchmark row name: ``FactorGAN+supervised`` when training also fitted the paired stems
        (supervised warm start or anchor, as ``factorgan-toy``), ``FactorGAN`` when it was adversarial only,
        ``FactorGAN generator, supervised`` when it had no adversarial step (the thesis's comparison)."""
        t = self.config.get("training", {})
        if t.get("steps") is not None and t.get("supervised_steps", 0) + t.get("d_warmup", 0) >= t["steps"]:
            return "FactorGAN generator, supervised"
        return "FactorGAN+supervised" if t.get("supervised_steps") or t.get("supervised_weight") else "FactorGAN"

    @property
    def rows(self) -> int:
        """Frequency rows of the masks (and of the noise input): the ``n_fft // 2 + 1`` STFT bins."""
        return self.n_fft // 2 + 1

    @property
    def n_fft(self) -> int:
        return int(self.config["n_fft"])

    @property
    def hop(self) -> int:
        return int(self.config["hop"])

    @property
    def train_samples(self) -> int:
        """Samples per training crop: exactly ``train_frames`` STFT frames."""
        return (int(self.config["train_frames"]) - 1) * self.hop

    def spectrogram(self, x: torch.Tensor) -> torch.Tensor:
        """Complex STFT ``(..., T) -> (..., n_fft // 2 + 1, frames)``."""
        return stft(x, self.n_fft, self.hop)

    def source_magnitudes(self, sources: torch.Tensor) -> torch.Tensor:
        """Magnitude spectrograms of real sources: ``(..., T)`` -> ``(..., n_fft // 2 + 1, frames)``."""
        return self.spectrogram(sources).abs()

    def logits(self, spec_mix: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Mix spectrogram ``(B, F + 1, frames)``, noise ``(B, F + 1, frames)`` -> mask logits
        ``(B, K, F + 1, frames)``."""
        if noise.shape != spec_mix.shape:
            raise ConfigError(f"noise shaped {tuple(noise.shape)}; need the spectrogram's {tuple(spec_mix.shape)}")
        c = self.config
        x = harmonic_stack(log_power(spec_mix), tuple(c["harmonics"]), bool(c["position"]))
        return self.generator.trunk(torch.cat([x, noise[:, None].to(x.dtype)], 1))

    def masks(self, spec_mix: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Masks ``(B, K, F + 1, frames)``: a softmax over K of :meth:`logits` (they sum to one in every bin)."""
        return torch.softmax(self.logits(spec_mix, noise), dim=1)

    def generate(self, mix: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``mix (B, T)``, noise ``(B, F + 1, frames)`` -> masks ``(B, K, F + 1, frames)`` and the mix
        spectrogram ``(B, F + 1, frames)``."""
        spec_mix = self.spectrogram(mix)
        return self.masks(spec_mix, noise), spec_mix

    def generated_magnitudes(self, masks: torch.Tensor, spec_mix: torch.Tensor) -> torch.Tensor:
        """Magnitude spectrograms of the generated sources, ``mask_k |M| / w_k``: ``(B, K, F + 1, frames)``."""
        w = torch.as_tensor(self.weights, dtype=masks.dtype, device=masks.device)[:, None, None]
        return masks * spec_mix.abs()[:, None] / w

    def separate_tensor(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T)`` of any length -> ``(B, K, C, T)``; channels are separated one by one, in
        half-overlapping windows of :attr:`train_samples` (a shorter mix is padded to one window)."""
        b, ch, t = mix.shape
        g = torch.Generator(device=mix.device).manual_seed(int(self.config["noise_seed"]))
        w = torch.as_tensor(self.weights, device=mix.device)

        def run(x: torch.Tensor) -> torch.Tensor:
            spec_mix = self.spectrogram(x)
            logits = self.logits(spec_mix, torch.randn(spec_mix.shape, generator=g, device=spec_mix.device))
            return masked_sources(logits, spec_mix, w, self.n_fft, self.hop, x.shape[-1])

        # a short mix gets one whole training window: the context the masks were trained with (and the STFT's)
        est = overlap_add(run, mix.reshape(b * ch, t).float(), self.train_samples,
                          min_length=self.train_samples)  # (B*C, K, T)
        return est.reshape(b, ch, -1, t).transpose(1, 2)


def log_filterbank(n_fft: int, sample_rate: int, bands: int, fmin: float) -> torch.Tensor:
    """``(bands, n_fft // 2 + 1)`` triangular weights, each row summing to one: log-spaced centre
    frequencies from ``fmin`` to Nyquist, each triangle reaching the neighbouring centres (and at
    least the neighbouring STFT bins, so that low bands interpolate between bins)."""
    freqs = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sample_rate / n_fft
    ratio = (sample_rate / 2 / fmin) ** (1.0 / (bands - 1))
    centres = fmin * ratio ** torch.arange(bands, dtype=torch.float64)
    width = torch.clamp(centres * (ratio - 1), min=sample_rate / n_fft)
    w = torch.clamp(1 - (freqs[None] - centres[:, None]).abs() / width[:, None], min=0)
    return (w / w.sum(1, keepdim=True)).float()


def _conv_disc(c_in: int, features: int, max_features: int, rows: int, time_strides: int, rows_left: int,
               hidden: int, first_kernel: int, extra_inputs: int = 0, cls: type | None = None) -> nn.Module:
    """Table 3.7 with spectral norm: 4x4 stride-2 convs (LeakyReLU) until ``rows_left`` frequency rows
    remain (after ``time_strides`` layers: 4x3 kernels with stride 2 in frequency only), then the
    mean over time and an MLP over (channels x rows) (``hidden`` units; 0: one linear layer) -> one
    logit per item. The MLP relates distant frequencies (harmonics); averaging over time lets the
    discriminators take crops of any number of frames >= 2**time_strides. ``extra_inputs``: values per
    item that go straight to the MLP besides the convs' (``cls``: the module class, default
    :class:`_ConvDisc`, whose ``forward`` supplies them)."""
    layers: list[nn.Module] = []
    c, i = c_in, 0
    if first_kernel:  # a stride-1 conv spanning ``first_kernel`` rows: harmonic templates
        layers += [spectral_norm(nn.Conv2d(c, features, (first_kernel, 1), padding=(first_kernel // 2, 0))),
                   nn.LeakyReLU(0.2)]
        c = features
    while rows > rows_left:
        c_out = min(features * 2**i, max_features)
        kernel, stride = ((4, 4), (2, 2)) if i < time_strides else ((4, 3), (2, 1))
        layers += [spectral_norm(nn.Conv2d(c, c_out, kernel, stride, 1)), nn.LeakyReLU(0.2)]
        c, rows, i = c_out, rows // 2, i + 1
    n_in = c * rows + extra_inputs
    if hidden:
        head = nn.Sequential(spectral_norm(nn.Linear(n_in, hidden)), nn.LeakyReLU(0.2),
                             spectral_norm(nn.Linear(hidden, 1)))
    else:
        head = spectral_norm(nn.Linear(n_in, 1))
    return (cls or _ConvDisc)(nn.Sequential(*layers), head)


class _ConvDisc(nn.Module):
    def __init__(self, convs: nn.Module, head: nn.Module):
        super().__init__()
        self.convs, self.head = convs, head

    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, C, rows, frames)`` (and ``extra (B, extra_inputs)``) -> ``(B,)`` logits."""
        h = self.convs(x).mean(-1).flatten(1)  # (B, C' * rows')
        return self.head(h if extra is None else torch.cat([h, extra], 1))[:, 0]


class FactorGANDiscriminators(nn.Module):
    """Marginal discriminators d_k (one per source) and the p-/q-dependency discriminators d_p, d_q.

    They read *features* of magnitude spectrograms (:meth:`features`): ``log(1 + spec_gain * FB |S| /
    (n_fft / 4))`` with a fixed log-frequency filterbank FB of ``disc_bands`` bands (0: the linear
    bins without Nyquist). On a log-frequency axis a harmonic series has the same shape at every
    pitch, so convolutions can learn what a source's spectrum looks like, and a generated source
    holding another source's partial is easier to spot. The marginal discriminators read one source
    ``(B, 1, rows, frames)``, the dependency ones the K-source tuple ``(B, K, rows, frames)`` as
    channels. Every layer is spectrally normalised (section 3.3.2, "Training procedure").
    """

    def __init__(self, config: dict):
        super().__init__()
        c = {**DEFAULTS, **config}
        self.check(c)
        self.config = c
        k, bands = len(c["sources"]), int(c["disc_bands"])
        if bands:
            bank = log_filterbank(c["n_fft"], c["sample_rate"], bands, c["sample_rate"] / c["n_fft"])
        else:  # the linear bins without Nyquist
            bank = torch.eye(c["n_fft"] // 2 + 1)[:-1]
        self.register_buffer("bank", bank, persistent=False)  # rebuilt from the config
        self.marginal = nn.ModuleList(self.conv_disc(1) for _ in range(k))
        self.p = self.conv_disc(k)
        self.q = self.conv_disc(k)

    def check(self, config: dict) -> None:
        """Refuse the experimental feature options (:mod:`priorsep.experimental.factorgan`)."""
        given = [key for key in ("disc_level", "disc_level_free") if config.get(key)]
        if given:
            raise ConfigError(f"{', '.join(given)}: experimental discriminator features; train with "
                              "discriminators=priorsep.experimental.factorgan.LevelFeatureDiscriminators")

    def conv_disc(self, c_in: int, **kw) -> nn.Module:
        """One discriminator reading ``c_in`` feature channels (:func:`_conv_disc` with the config's
        sizes; ``kw``: its ``extra_inputs`` and ``cls``)."""
        c = self.config
        return _conv_disc(c_in, c["disc_features"], c["disc_max_features"], self.bank.shape[0],
                          c["disc_time_strides"], c["disc_rows"], c["disc_hidden"], c["harmonic_kernel"], **kw)

    def banded(self, mag: torch.Tensor) -> torch.Tensor:
        """Magnitudes ``(B, K, F + 1, frames)`` -> the filterbank's bands ``(B, K, rows, frames)``."""
        return torch.einsum("rf,bkft->bkrt", self.bank, mag)

    def features(self, mag: torch.Tensor) -> torch.Tensor:
        """Magnitudes ``(B, K, F + 1, frames)`` (sources' scale) -> features ``(B, K, rows, frames)``."""
        return torch.log1p(self.banded(mag) * 4.0 * float(self.config["spec_gain"]) / self.config["n_fft"])

    def marginal_logits(self, feats: torch.Tensor) -> torch.Tensor:
        """Features ``(B, K, rows, frames) -> (B, K)``: d_k on source k of each tuple."""
        return torch.stack([d(feats[:, k:k + 1]) for k, d in enumerate(self.marginal)], dim=1)

    def combined_logit(self, feats: torch.Tensor) -> torch.Tensor:
        """Definition 3.3.2: ``d_p(x) - d_q(x) + sum_k d_k(x_k)`` on features ``(B, K, rows, frames) -> (B,)``.

        sigmoid of it estimates p(x) / (p(x) + q(x)) when every sub-discriminator is optimal."""
        return self.p(feats) - self.q(feats) + self.marginal_logits(feats).sum(1)
