"""Deep spectral priors, one per source, fitted together to a mixture: a variational autoencoder (VAE;
Kingma & Welling 2014) per source over windows of ``context`` consecutive magnitude STFT frames, each
learnt from that source's solo recordings alone (:func:`priorsep.training.spectral_vae.train_spectral_vae`).
Fitting a VAE source prior's latents to a mixture follows Bando et al. 2018 and Leglaive et al. 2018
(speech VAEs under an NMF noise model); here every source is a VAE.

Source k's part of a window of the mix is ``g_k * D_k(z_k)``: a shape from its decoder (positive and
summing to 1: a softmax over the window's ``context * F`` bins) at a free gain ``g_k``, so the prior is
over shapes, not levels. Separation fits every source's latent ``z_k`` (under its standard normal prior,
weighted ``prior_weight``) and log gain per window to the mix's magnitude windows under the β-divergence
(each window scaled to sum to its size, as in training, and counted by its level to the power β), by
``iterations`` Adam steps started from each encoder's reading of the mix window. The mix's STFT is then
split by the ratio masks of the fitted parts (each frame the mean of its ``context`` windows, as
:func:`priorsep.dsp.nmf.unshingle` does for the NMF dictionaries), so the estimates mix back to the input
exactly. This is a MAP-like search over the latents, not posterior sampling; the same mix gives the
same output.

It is stored and loaded as one separator checkpoint, as the NMF dictionaries are (hence its place
beside them), but it is a prior-based method: no mixture and no other source is seen in training
(``paired_items`` 0).
"""
from __future__ import annotations

import torch
from torch import nn

from ..dsp.nmf import EPS, shingle, unshingle
from ..errors import ConfigError
from .base import SpectralModelSeparator

FLOOR = 1e-3  # the encoder reads log(shape * D + FLOOR): finite for silent bins
DEFAULTS = dict(n_fft=2048, hop=512, context=4, latent=32, hidden=512, beta=0.5, kl=0.3, iterations=200,
                fit_lr=0.05, prior_weight=0.3, storage="float32")
STORAGE = {"float32": torch.float32, "float16": torch.float16}
FIT_BLOCK = 256  # windows fitted at once (about 8 s at hop 512): memory stays flat for songs of any length


def beta_divergence_rows(x: torch.Tensor, y: torch.Tensor, beta: float) -> torch.Tensor:
    """β-divergence D_β(x | y) of non-negative ``x``, ``y (..., D)`` summed over the last axis: ``(...)``
    (β in (0, 1) or (1, 2); :func:`priorsep.dsp.nmf.beta_divergence` sums everything, for any β)."""
    x, y = x + EPS, y + EPS
    return ((x ** beta + (beta - 1) * y ** beta - beta * x * y ** (beta - 1)) / (beta * (beta - 1))).sum(-1)


class SpectralVAE(nn.Module):
    """One source's VAE: window shapes ``(N, D)`` (non-negative, summing to 1) <-> latents ``(N, latent)``."""

    def __init__(self, dim: int, latent: int, hidden: int):
        super().__init__()
        self.dim = dim
        self.enc = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden // 2), nn.GELU(),
                                 nn.Linear(hidden // 2, 2 * latent))
        self.dec = nn.Sequential(nn.Linear(latent, hidden // 2), nn.GELU(), nn.Linear(hidden // 2, hidden), nn.GELU(),
                                 nn.Linear(hidden, dim))

    def encode(self, shape: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, log variance)`` of q(z | shape), each ``(N, latent)``."""
        mean, log_var = self.enc(torch.log(shape * self.dim + FLOOR)).chunk(2, -1)
        return mean, log_var.clamp(-12, 6)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``(..., latent)`` -> shapes ``(..., D)``, positive and summing to 1."""
        return torch.softmax(self.dec(z), -1)

    def loss(self, shape: torch.Tensor, beta: float, kl: float, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Per window ``(N,)``: the β-divergence of the reconstruction (shapes scaled to sum to D) plus ``kl``
        times the KL divergence of q(z | shape) from the prior; ``noise (N, latent)`` draws z (None: its mean)."""
        mean, log_var = self.encode(shape)
        z = mean if noise is None else mean + noise * (0.5 * log_var).exp()
        rec = beta_divergence_rows(shape * self.dim, self.decode(z) * self.dim, beta)
        return rec + kl * 0.5 * (mean ** 2 + log_var.exp() - 1 - log_var).sum(-1)


class SpectralVAESeparator(SpectralModelSeparator):
    """``separate_tensor(mixes (B, C, T)) -> (B, K, C, T)``; ``vaes[k]`` is source k's :class:`SpectralVAE`."""

    kind = "spectral-vae"
    noun = "spectral VAE separation"

    def __init__(self, config: dict):
        config = {**DEFAULTS, **config}
        super().__init__(config)
        c = self.config
        if (c["n_fft"] < 2 or not 0 < c["hop"] <= c["n_fft"] or c["context"] < 1 or c["latent"] < 1
                or c["hidden"] < 2 or c["iterations"] < 0):
            raise ConfigError("spectral VAE priors need n_fft >= 2, 0 < hop <= n_fft, context >= 1, latent >= 1, "
                              f"hidden >= 2 and iterations >= 0, got {c}")
        if not (0 < c["beta"] < 2 and c["beta"] != 1) or c["fit_lr"] <= 0 or c["prior_weight"] < 0 or c["kl"] < 0:
            raise ConfigError("spectral VAE priors need beta in (0, 1) or (1, 2), fit_lr > 0, prior_weight >= 0 "
                              f"and kl >= 0, got {c['beta']}, {c['fit_lr']}, {c['prior_weight']}, {c['kl']}")
        if c["storage"] not in STORAGE:
            raise ConfigError(f"spectral VAE storage must be one of {sorted(STORAGE)}, got {c['storage']!r}")
        self.vaes = nn.ModuleList(SpectralVAE(self.window_size, c["latent"], c["hidden"]) for _ in self.names)

    @property
    def window_size(self) -> int:
        """D: the bins of one window (``context`` frames of ``n_fft // 2 + 1`` bins)."""
        return self.config["context"] * (self.config["n_fft"] // 2 + 1)

    @property
    def label(self) -> str:
        """Benchmark row name: the config's ``label`` where given (to tell runs apart), else the model's."""
        return self.config.get("label") or f"spectral VAE priors, {self.config['context']} frames"

    @property
    def paired_items(self) -> int:
        return 0  # every VAE is learnt from one source's solo stems

    def state_dict(self, *args, **kwargs):
        """The weights in the storage dtype (``float16`` halves the file); loading casts them back to float32."""
        state = super().state_dict(*args, **kwargs)
        dtype = STORAGE[self.config["storage"]]
        return type(state)((k, v.to(dtype) if v.is_floating_point() else v) for k, v in state.items())

    def windows(self, magnitude: torch.Tensor, pad: bool) -> torch.Tensor:
        """Magnitude spectrograms ``(..., F, N)`` -> their windows of ``context`` frames ``(..., W, D)``
        (:func:`~priorsep.dsp.nmf.shingle`)."""
        return shingle(magnitude, self.config["context"], pad=pad).transpose(-1, -2)

    def fit_parts(self, v: torch.Tensor) -> torch.Tensor:
        """The mix's windows ``v (W, D)`` -> every source's fitted part ``(K, W, D)``, in ``v``'s units.

        Each window's latents and gains feel only that window's terms (Adam steps element by element), so
        the windows are fitted in blocks of :data:`FIT_BLOCK`, each counted against the whole mix's level."""
        level = v.sum(-1).mean().clamp_min(EPS)
        return torch.cat([self._fit_block(v[i:i + FIT_BLOCK], level) for i in range(0, len(v), FIT_BLOCK)], 1)

    def _fit_block(self, v: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        """:meth:`fit_parts` of the windows ``v (W, D)`` of a mix whose mean window sums to ``level``."""
        c, d = self.config, v.shape[-1]
        total = v.sum(-1, keepdim=True).clamp_min(EPS)
        target = v / total * d  # each window sums to D, as in training
        weight = (total[:, 0] / level) ** c["beta"]  # windows count by their level, as in NMF's fit
        with torch.no_grad():
            z0 = torch.stack([vae.encode(target / d)[0] for vae in self.vaes])
        z = z0.clone().requires_grad_(True)
        log_gain = torch.full((len(self.vaes), len(v), 1), -float(torch.log(torch.tensor(float(len(self.vaes))))),
                              dtype=v.dtype, device=v.device, requires_grad=True)
        optimizer = torch.optim.Adam([z, log_gain], lr=c["fit_lr"])
        for _ in range(c["iterations"]):
            fitted = (log_gain.exp() * self._shapes(z)).sum(0) * d
            loss = (weight * beta_divergence_rows(target, fitted, c["beta"])).sum() + c["prior_weight"] * 0.5 * (
                z ** 2).sum()
            # gradients of the fitted variables only: none flow to (or pile up in) the VAEs' weights
            z.grad, log_gain.grad = torch.autograd.grad(loss, [z, log_gain])
            optimizer.step()
        with torch.no_grad():
            return log_gain.exp() * self._shapes(z) * total

    def _shapes(self, z: torch.Tensor) -> torch.Tensor:
        return torch.stack([vae.decode(z[k]) for k, vae in enumerate(self.vaes)])

    def parts(self, spec: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():  # one mix at a time: the fit's windows are its batch
            parts = torch.stack([self.fit_parts(self.windows(s.abs(), pad=True)).transpose(-1, -2) for s in spec])
        return unshingle(parts, self.config["context"], spec.shape[-1])  # (BC, K, F, N)
