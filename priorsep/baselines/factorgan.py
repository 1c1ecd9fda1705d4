"""FactorGAN separator (Stoller et al. 2020; seed 002, section 3.3.2.4): a masking U-Net trained
adversarially with one marginal discriminator per source plus p- and q-dependency discriminators.

Spectrograms: :func:`priorsep.stft.stft` with ``n_fft``/``hop``. Magnitudes are normalised as
``log(1 + spec_gain * |S| / (n_fft / 4))``: the thesis' log(1 + |S|) on magnitudes scaled so that a
sinusoid of amplitude A peaks at spec_gain * A (the hann window sums to n_fft / 2), independent of
n_fft. Log-frequency bands (:func:`log_filterbank`, from the first bin's frequency sample_rate / n_fft
to Nyquist) give a representation in which a note's partials have the same shape at every pitch.

Generator (:class:`FactorGAN`): a 2-D U-Net on the linear STFT bins below Nyquist (F = n_fft // 2
rows x frames) reads the normalised mix, one channel of Gaussian noise z and, when ``bands > 0``,
the output of a *harmonic front end* (two template convolutions ``harmonic_kernel`` bands tall on the
log-band mix, interpolated back to the bins). It outputs K mask logits; a softmax over the source
axis makes the masks sum to one, so they *distribute* the mix: w_k S_k = mask_k M, i.e.
S_k = mask_k M / w_k. The input-output relation p(m | s) = delta(m - sum_k w_k s_k) therefore holds by
construction and the discriminators only need the source tuple, not the mix (eq. 3.11). Time-domain
estimates use the mixture phase.

:class:`FactorGANDiscriminators` (training only, so not part of the separator's state_dict) read
log-band features; each starts with a ``harmonic_kernel``-tall template convolution.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..stft import istft, stft
from .base import Separator
from ..errors import ConfigError

DEFAULTS = dict(
    n_fft=512,           # STFT window (samples); the U-Net sees the n_fft // 2 bins below Nyquist
    hop=128,             # STFT hop (samples)
    levels=5,            # U-Net poolings, each halving the frequency bins
    time_levels=2,       # how many of them also halve the frames (None: all); frames are padded to a
                         # multiple of 2**time_levels
    features=8,          # U-Net channels at full resolution, doubled per level up to max_features
    max_features=32,
    bands=128,           # log-frequency bands of the generator's harmonic front end (0: no front end)
    harmonic_kernel=49,  # odd height (log bands) of the template convs of that front end and of the first
                         # conv of every discriminator (0: none); 49 of 128 bands over 8 octaves span
                         # 3 octaves, a note's first 8 partials
    harmonic_features=8,  # channels of the generator's harmonic front end
    spec_gain=10.0,      # magnitude of a unit-amplitude sinusoid before log1p (see the module docstring)
    noise_seed=0,        # seed of the noise channel at inference, so that separate() is deterministic
    train_frames=8,      # STFT frames per training crop -> (train_frames - 1) * hop samples
    disc_features=16,    # channels of every discriminator's first conv, doubled per strided layer
    disc_max_features=64,
    disc_time_strides=2,  # discriminator layers that also halve the frames (train_frames >= 2**this)
    disc_bands=128,      # log-frequency bands the discriminators read (0: the linear STFT bins)
    disc_rows=16,        # frequency rows left after the discriminators' strided convs
    disc_hidden=256,     # hidden units of the discriminators' final MLP (0: a linear layer)
    channels=1,
)


class _DoubleConv(nn.Sequential):
    """(3x3 conv, GroupNorm, LeakyReLU) x 2; GroupNorm is per item, so batch and train/eval modes
    do not change a separation."""

    def __init__(self, c_in: int, c_out: int):
        groups = 4 if c_out % 4 == 0 else 1
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1), nn.GroupNorm(groups, c_out), nn.LeakyReLU(0.2),
            nn.Conv2d(c_out, c_out, 3, padding=1), nn.GroupNorm(groups, c_out), nn.LeakyReLU(0.2),
        )


class UNet2d(nn.Module):
    """``(B, c_in, H, W) -> (B, c_out, H, W)`` with H a multiple of ``2**levels`` and W of ``2**time_levels``.

    Max-pooling down (2 x 2 for the first ``time_levels`` levels, then 2 x 1: frequency only),
    nearest-neighbour upsampling and concatenated skips (Table 3.8, smaller)."""

    def __init__(self, c_in: int, c_out: int, features: int, levels: int, max_features: int, time_levels: int):
        super().__init__()
        self.pools = [(2, 2) if i < time_levels else (2, 1) for i in range(levels)]
        ch = [min(features * 2**i, max_features) for i in range(levels + 1)]
        self.down = nn.ModuleList(_DoubleConv(c_in if i == 0 else ch[i - 1], ch[i]) for i in range(levels + 1))
        self.up = nn.ModuleList(_DoubleConv(ch[i + 1] + ch[i], ch[i]) for i in range(levels))
        self.out = nn.Conv2d(ch[0], c_out, 1)
        nn.init.zeros_(self.out.weight)  # start from uniform masks: every estimate is the mix
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, self.pools[i - 1]))
            skips.append(x)
        x = skips.pop()
        for block, pool in zip(reversed(self.up), reversed(self.pools)):
            x = block(torch.cat([F.interpolate(x, scale_factor=pool, mode="nearest"), skips.pop()], dim=1))
        return self.out(x)


class FactorGAN(Separator):
    """The FactorGAN generator as a separator. ``config``: see :data:`DEFAULTS` (filled in)."""

    kind = "factorgan"

    def __init__(self, config: dict):
        config = {**DEFAULTS, **config}
        if config["time_levels"] is None:
            config["time_levels"] = config["levels"]
        super().__init__(config)
        c = self.config
        if not 0 <= c["time_levels"] <= c["levels"]:
            raise ConfigError(f"need 0 <= time_levels <= levels, got {c['time_levels']} and {c['levels']}")
        if c["n_fft"] % 2 or c["hop"] < 1 or c["train_frames"] % 2 ** c["time_levels"]:
            raise ConfigError(f"FactorGAN needs an even n_fft and train_frames a multiple of 2**time_levels, got {c}")
        if (self.n_fft // 2) % 2 ** c["levels"]:
            raise ConfigError(f"the U-Net's n_fft // 2 = {self.n_fft // 2} frequency rows must be a multiple "
                             f"of 2**levels")
        if c["bands"] and not c["harmonic_kernel"]:
            raise ConfigError("the generator's harmonic front end (bands > 0) needs harmonic_kernel > 0")
        if any(w == 0 for w in self.weights):
            raise ConfigError("FactorGAN needs non-zero mixing weights (estimates are divided by w_k)")
        # input: normalised mix (+ harmonic front end) + one noise channel; output: one mask logit per source
        front = c["harmonic_features"] if c["bands"] else 0
        self.generator = UNet2d(2 + front, len(self.names), c["features"], c["levels"], c["max_features"],
                                c["time_levels"])
        if c["bands"]:
            # Harmonic front end: template convs on log bands, where a note's partials have the same
            # shape at every pitch, mapped back to the bins as extra U-Net input channels; the masks
            # stay at the STFT's full resolution.
            fmin = c["sample_rate"] / c["n_fft"]
            hk, hf = c["harmonic_kernel"], c["harmonic_features"]
            self.harmonic = nn.Sequential(
                nn.Conv2d(1, hf, (hk, 3), padding=(hk // 2, 1)), nn.LeakyReLU(0.2),
                nn.Conv2d(hf, hf, (hk, 1), padding=(hk // 2, 0)), nn.LeakyReLU(0.2))
            # fixed maps between bins and bands, rebuilt from the config (not in the state_dict)
            self.register_buffer("bank", log_filterbank(c["n_fft"], c["sample_rate"], c["bands"], fmin),
                                 persistent=False)
            self.register_buffer("interp", log_interpolation(c["n_fft"], c["sample_rate"], c["bands"], fmin),
                                 persistent=False)

    @property
    def rows(self) -> int:
        """Frequency rows of the U-Net (and of its noise input): the ``n_fft // 2`` bins below Nyquist."""
        return self.n_fft // 2

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

    def normalise(self, mag: torch.Tensor, bands: bool = False) -> torch.Tensor:
        """Magnitudes ``(..., n_fft // 2 + 1, frames)`` -> ``log(1 + spec_gain |S| / (n_fft / 4))`` of
        the bins without Nyquist ``(..., n_fft // 2, frames)``, or of the log bands ``(..., bands, frames)``."""
        scale = 4.0 * float(self.config["spec_gain"]) / self.n_fft
        if bands:
            return torch.log1p(torch.einsum("rf,...ft->...rt", self.bank, mag) * scale)
        return torch.log1p(mag[..., :-1, :] * scale)

    def source_magnitudes(self, sources: torch.Tensor) -> torch.Tensor:
        """Magnitude spectrograms of real sources: ``(..., T)`` -> ``(..., n_fft // 2 + 1, frames)``."""
        return self.spectrogram(sources).abs()

    def masks(self, spec_mix: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Mix spectrogram ``(B, F + 1, frames)``, noise ``(B, rows, frames')`` -> masks ``(B, K, F + 1, frames)``.

        ``frames'`` is ``frames`` padded (edge frames repeated) to :meth:`padded_frames`. The masks
        are a softmax over K, so they sum to one in every bin; the dropped Nyquist bin reuses the
        highest bin's masks.
        """
        mag = spec_mix.abs()
        frames = mag.shape[-1]
        pad = noise.shape[-1] - frames
        if pad < 0 or noise.shape[-1] % 2 ** self.config["time_levels"]:
            raise ConfigError(f"noise has {noise.shape[-1]} frames; need a multiple of "
                             f"{2 ** self.config['time_levels']} >= {frames}")
        inputs = [self.normalise(mag)[:, None]]
        if self.config["bands"]:
            h = self.harmonic(self.normalise(mag, bands=True)[:, None])  # (B, C, bands, frames)
            inputs.append(torch.einsum("fr,bcrt->bcft", self.interp[:-1], h))
        x = F.pad(torch.cat(inputs, dim=1), (0, pad, 0, 0), mode="replicate")
        logits = self.generator(torch.cat([x, noise[:, None]], dim=1))[..., :frames]
        return torch.softmax(torch.cat([logits, logits[:, :, -1:]], dim=2), dim=1)

    def padded_frames(self, frames: int) -> int:
        """The smallest multiple of ``2**time_levels`` >= ``frames``: what the U-Net takes."""
        m = 2 ** self.config["time_levels"]
        return -(-frames // m) * m

    def generate(self, mix: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``mix (B, T)``, noise ``(B, rows, padded_frames)`` -> masks ``(B, K, F + 1, frames)`` and the mix
        spectrogram ``(B, F + 1, frames)``."""
        spec_mix = self.spectrogram(mix)
        return self.masks(spec_mix, noise), spec_mix

    def generated_magnitudes(self, masks: torch.Tensor, spec_mix: torch.Tensor) -> torch.Tensor:
        """Magnitude spectrograms of the generated sources, ``mask_k |M| / w_k``: ``(B, K, F + 1, frames)``."""
        w = torch.as_tensor(self.weights, dtype=masks.dtype)[:, None, None]
        return masks * spec_mix.abs()[:, None] / w

    def separate_tensor(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T)`` of any length -> ``(B, K, C, T)``; channels are separated one by one.

        Mixes shorter than ``n_fft`` samples are zero-padded (the centred STFT needs the samples
        for its reflect padding) and the estimates cut back."""
        b, ch, t = mix.shape
        x = mix.reshape(b * ch, t).float()
        if t < self.n_fft:
            x = F.pad(x, (0, self.n_fft - t))
        spec_mix = self.spectrogram(x)
        frames = spec_mix.shape[-1]
        g = torch.Generator().manual_seed(int(self.config["noise_seed"]))
        noise = torch.randn(x.shape[0], self.rows, self.padded_frames(frames), generator=g)
        masks = self.masks(spec_mix, noise)
        w = torch.as_tensor(self.weights, dtype=masks.dtype)[:, None, None]
        est = istft(masks * spec_mix[:, None] / w, self.n_fft, self.hop, x.shape[-1])[..., :t]  # (B*C, K, T)
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


def log_interpolation(n_fft: int, sample_rate: int, bands: int, fmin: float) -> torch.Tensor:
    """``(n_fft // 2 + 1, bands)``: each STFT bin as the linear interpolation (in log frequency) of
    the two nearest centres of :func:`log_filterbank`'s bands (bins below ``fmin``: the first band)."""
    freqs = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sample_rate / n_fft
    ratio = (sample_rate / 2 / fmin) ** (1.0 / (bands - 1))
    pos = (torch.log(freqs.clamp(min=fmin) / fmin) / math.log(ratio)).clamp(0, bands - 1)
    lo = pos.floor().long().clamp(max=bands - 2)
    frac = pos - lo
    w = torch.zeros(n_fft // 2 + 1, bands, dtype=torch.float64)
    rows = torch.arange(n_fft // 2 + 1)
    w[rows, lo] = 1 - frac
    w[rows, lo + 1] = frac
    return w.float()


def _conv_disc(c_in: int, features: int, max_features: int, rows: int, time_strides: int, rows_left: int,
               hidden: int, first_kernel: int) -> nn.Module:
    """Table 3.7 with spectral norm: 4x4 stride-2 convs (LeakyReLU) until ``rows_left`` frequency rows
    remain (after ``time_strides`` layers: 4x3 kernels with stride 2 in frequency only), then the
    mean over time and an MLP over (channels x rows) (``hidden`` units; 0: one linear layer) -> one
    logit per item. The MLP relates distant frequencies (harmonics); averaging over time lets the
    discriminators take crops of any number of frames >= 2**time_strides."""
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
    if hidden:
        head = nn.Sequential(spectral_norm(nn.Linear(c * rows, hidden)), nn.LeakyReLU(0.2),
                             spectral_norm(nn.Linear(hidden, 1)))
    else:
        head = spectral_norm(nn.Linear(c * rows, 1))
    return _ConvDisc(nn.Sequential(*layers), head)


class _ConvDisc(nn.Module):
    def __init__(self, convs: nn.Module, head: nn.Module):
        super().__init__()
        self.convs, self.head = convs, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, rows, frames) -> (B,)`` logits."""
        h = self.convs(x).mean(-1)  # (B, C', rows')
        return self.head(h.flatten(1))[:, 0]


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
        self.config = c
        k, bands = len(c["sources"]), int(c["disc_bands"])
        if bands:
            bank = log_filterbank(c["n_fft"], c["sample_rate"], bands, c["sample_rate"] / c["n_fft"])
        else:  # the linear bins without Nyquist
            bank = torch.eye(c["n_fft"] // 2 + 1)[:-1]
        self.register_buffer("bank", bank, persistent=False)  # rebuilt from the config
        args = (c["disc_features"], c["disc_max_features"], bank.shape[0], c["disc_time_strides"], c["disc_rows"],
                c["disc_hidden"], c["harmonic_kernel"])
        self.marginal = nn.ModuleList(_conv_disc(1, *args) for _ in range(k))
        self.p = _conv_disc(k, *args)
        self.q = _conv_disc(k, *args)

    def features(self, mag: torch.Tensor) -> torch.Tensor:
        """Magnitudes ``(B, K, F + 1, frames)`` (sources' scale) -> features ``(B, K, rows, frames)``."""
        scale = 4.0 * float(self.config["spec_gain"]) / self.config["n_fft"]
        return torch.log1p(torch.einsum("rf,bkft->bkrt", self.bank, mag) * scale)

    def marginal_logits(self, feats: torch.Tensor) -> torch.Tensor:
        """Features ``(B, K, rows, frames) -> (B, K)``: d_k on source k of each tuple."""
        return torch.stack([d(feats[:, k:k + 1]) for k, d in enumerate(self.marginal)], dim=1)

    def combined_logit(self, feats: torch.Tensor) -> torch.Tensor:
        """Definition 3.3.2: ``d_p(x) - d_q(x) + sum_k d_k(x_k)`` on features ``(B, K, rows, frames) -> (B,)``.

        sigmoid of it estimates p(x) / (p(x) + q(x)) when every sub-discriminator is optimal."""
        return self.p(feats) - self.q(feats) + self.marginal_logits(feats).sum(1)
