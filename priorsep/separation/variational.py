"""Variational separation (seed 003, eq. 20-25): amortised posteriors q_phi(s_k | m), trained on
mixtures only, against frozen noise-conditioned priors, with Pyro.

Model (one mixture ``m (T,)``; a plate over the batch):

    s_k ~ p_k(s_k | sigma)                      (the frozen prior, as a Pyro distribution)
    m   ~ N(sum_k w_k s_k, gamma^2 I)

Guide: s_k ~ N(mu_k(m), diag tau_k(m)^2), mu and tau from one :class:`Encoder` network for all
sources. ``Trace_ELBO`` on this pair is the ELBO of the issue,

    sum_k E_q[log p_k(s_k | sigma)] + sum_k H[q_k] + E_q[log N(m; sum_k w_k s_k, gamma^2 I)],

estimated with reparameterised draws of the guide (gradients reach the encoder through the
priors' scores; the priors' own parameters are frozen).

Training with a sigma/gamma annealing is :func:`priorsep.training.posterior.train_posterior`; the
ELBO is tested against its closed form on Gaussian priors. Trained by the ELBO alone, the encoders
did not separate (``benchmarks/results/variational/``); the bundled ``toy-wavenet`` encoder is first
fitted to the Langevin separator's estimates of mixtures (:mod:`priorsep.training.teacher`), then
trained by the ELBO with q's std tied to sigma, and separates in one pass (9.06 dB on 96 fresh toy
mixes, 0.09 s per mix).
"""
from __future__ import annotations

import inspect
import math

import pyro
import pyro.distributions as dist
import torch
import torch.nn.functional as F
from pyro.distributions import TorchDistribution
from torch import nn
from torch.distributions import constraints

from ..errors import ConfigError
from ..harmonic_unet import HarmonicUNet, check_harmonics, harmonic_stack, log_power
from ..priors.base import Prior
from ..priors.io import PriorSet
from ..stft import stft
from .mask_space import masked_sources


class PriorDistribution(TorchDistribution):
    """A frozen prior at noise level ``sigma`` as a Pyro distribution over ``(batch, T)`` waveforms:
    batch shape ``(batch,)``, event shape ``(T,)``; ``log_prob`` is ``prior.log_prob(x, sigma)``."""

    arg_constraints: dict = {}
    support = constraints.real_vector
    has_rsample = False

    def __init__(self, prior: Prior, sigma: float, batch_shape, length: int, validate_args=None):
        self.prior, self.sigma, self.length = prior, float(sigma), int(length)
        batch_shape = torch.Size([batch_shape]) if isinstance(batch_shape, int) else torch.Size(batch_shape)
        super().__init__(batch_shape, torch.Size([length]), validate_args=validate_args)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        flat = value.reshape(-1, self.length)
        return self.prior.log_prob(flat, self.sigma).reshape(value.shape[:-1])

    def sample(self, sample_shape=torch.Size()) -> torch.Tensor:
        n = int(torch.Size(sample_shape).numel()) * int(self.batch_shape.numel())
        x = self.prior.sample(n, self.length, self.sigma)
        return x.reshape(*sample_shape, *self.batch_shape, self.length)

    def expand(self, batch_shape, _instance=None):
        return PriorDistribution(self.prior, self.sigma, batch_shape, self.length)


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


def model(mix: torch.Tensor, priors: PriorSet, sigma: float, gamma: float) -> None:
    """The generative model: independent priors at ``sigma``, a Gaussian mix likelihood of std ``gamma``."""
    b, t = mix.shape
    w = torch.as_tensor(priors.weights, dtype=mix.dtype)
    with pyro.plate("mixes", b):
        sources = [pyro.sample(f"s_{p.name}", PriorDistribution(p, sigma, b, t)) for p in priors]
        loc = sum(wk * s for wk, s in zip(w, sources))
        pyro.sample("mix", dist.Normal(loc, gamma).to_event(1), obs=mix)


def guide(mix: torch.Tensor, priors: PriorSet, sigma: float, gamma: float, encoder: Encoder,
          tie_scale: bool = False) -> None:
    """The amortised posterior: one diagonal Gaussian per source from the encoder. ``tie_scale``:
    its std is ``sigma`` instead of the encoder's scale, so a draw mu + sigma * eps is what the
    noise-conditioned prior at ``sigma`` models (a clean source plus noise of std sigma)."""
    pyro.module("encoder", encoder)
    loc, scale = encoder(mix)
    if tie_scale:
        scale = torch.full_like(loc, sigma)
    with pyro.plate("mixes", mix.shape[0]):
        for k, p in enumerate(priors):
            pyro.sample(f"s_{p.name}", dist.Normal(loc[:, k], scale[:, k]).to_event(1))


def elbo(mix: torch.Tensor, priors: PriorSet, encoder: Encoder, sigma: float, gamma: float,
         particles: int = 1, tie_scale: bool = False) -> torch.Tensor:
    """Monte-Carlo ELBO (nats, summed over the batch) of ``mix (B, T)``, differentiable in the encoder;
    ``particles`` draws are vectorised (one batched pass through each prior). ``tie_scale``: see :func:`guide`."""
    # pyro.module keeps parameters in a global store and would load a previous encoder's values into
    # this one; the encoder's own parameters are the truth here (torch optimisers, checkpoints)
    pyro.clear_param_store()
    loss = pyro.infer.Trace_ELBO(num_particles=particles, vectorize_particles=particles > 1,
                                 max_plate_nesting=1).differentiable_loss(
        lambda m: model(m, priors, sigma, gamma), lambda m: guide(m, priors, sigma, gamma, encoder, tie_scale), mix)
    return -loss


def freeze(priors: PriorSet) -> None:
    """The priors are fixed during variational training: no gradients into their parameters."""
    for p in priors:
        p.eval()
        for q in p.parameters():
            q.requires_grad_(False)


# --- checkpoints ---------------------------------------------------------------------------------

ENCODER_STEM = "encoder"  # a prior set's own encoder: <prior set folder>/encoder.pt + .json


def save_encoder(encoder: Encoder | MaskEncoder, stem, extra: dict | None = None) -> None:
    """``stem.pt`` (state_dict) + ``stem.json`` (architecture, plus ``extra``: sources, sample rate,
    training record), both atomic."""
    from .. import __version__
    from ..checkpoint import atomic_json_save, atomic_torch_save, checkpoint_paths

    weights, config = checkpoint_paths(stem)
    atomic_torch_save(encoder.state_dict(), weights)
    atomic_json_save({**encoder.config, **(extra or {}), "kind": "encoder", "model_class": type(encoder).__name__,
                      "priorsep_version": __version__}, config)


def load_encoder(stem, priors: PriorSet | None = None) -> Encoder | MaskEncoder:
    """An :class:`Encoder` or :class:`MaskEncoder` (the config's ``model_class``) from ``stem.pt`` +
    ``stem.json``; with ``priors``, checks that it was trained for these sources and this sample rate."""
    from ..checkpoint import read_checkpoint
    from ..errors import CheckpointError, SampleRateError, brief

    config, state = read_checkpoint(stem, "encoder checkpoint")
    if config.get("kind") != "encoder":
        raise CheckpointError(f"{stem} is a {config.get('kind')!r} checkpoint, not an encoder")
    if priors is not None:
        if config.get("sources") and list(config["sources"]) != list(priors.names):
            raise ConfigError(f"encoder {stem} separates {config['sources']}, but the priors are {priors.names}")
        if config.get("sample_rate") and int(config["sample_rate"]) != priors.sample_rate:
            raise SampleRateError(f"encoder {stem} is for {config['sample_rate']} Hz, the priors for "
                                  f"{priors.sample_rate} Hz")
    cls = ENCODER_CLASSES.get(config.get("model_class", "Encoder"))
    if cls is None:
        raise CheckpointError(f"{stem}: unknown encoder class {config.get('model_class')!r}; expected one of "
                              f"{sorted(ENCODER_CLASSES)}")
    try:
        enc = cls(**{k: config[k] for k in inspect.signature(cls).parameters})
    except (KeyError, TypeError) as e:
        raise CheckpointError(f"encoder config {stem}.json lacks or mangles a setting ({brief(e)})") from None
    try:
        enc.load_state_dict(state)
    except RuntimeError as e:
        raise CheckpointError(f"encoder weights {stem} do not fit their config ({brief(e)})") from None
    enc.config.update({k: v for k, v in config.items() if k not in enc.config})
    return enc.eval()


# --- separation ----------------------------------------------------------------------------------

def own_encoder(priors: PriorSet):
    """The stem of the prior set's own encoder (``<set folder>/encoder``), or ``None`` if it has none."""
    stem = priors.path / ENCODER_STEM if getattr(priors, "path", None) is not None else None
    return stem if stem is not None and stem.with_suffix(".pt").is_file() else None


def resolve_encoder(priors: PriorSet, encoder=None) -> Encoder | MaskEncoder:
    """``encoder`` as a module (:data:`ENCODER_CLASSES`): itself, loaded from a stem, or (``None``)
    the prior set's own."""
    from ..errors import UnknownNameError

    if encoder is None:
        stem = own_encoder(priors)
        if stem is None:
            raise UnknownNameError(f"the prior set {getattr(priors, 'path', None) or priors.names} has no encoder; "
                                   "train one with priorsep train-posterior, or pass encoder=STEM")
        encoder = stem
    return encoder if isinstance(encoder, tuple(ENCODER_CLASSES.values())) else load_encoder(encoder, priors)


def encoder_posterior(encoder: Encoder, mixes: torch.Tensor, chunk: int | None = None, batch: int = 4
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Means and scales ``(B, K, T)`` for mixes ``(B, T)`` of any length: overlap-added chunks of
    about ``chunk`` samples (a multiple of the encoder's length multiple), ``batch`` at a time.
    ``chunk=None``: the encoder's training window (its config's ``window``, the crop length it was
    trained on), else 2^16; an encoder sees at test time the context it was trained with. A mix
    shorter than that window is padded to it (``overlap_add``'s ``min_length``)."""
    chunk = chunk or int(encoder.config.get("window", 2**16))
    from .overlap_add import overlap_add

    k = len(encoder.config["weights"])

    def run(x: torch.Tensor) -> torch.Tensor:
        loc, scale = encoder(x)
        return torch.cat([loc, scale], 1)

    with torch.no_grad():  # a mix shorter than the training window gets the window, padded
        out = overlap_add(run, mixes.float(), chunk, encoder.length_multiple, batch,
                          min_length=int(encoder.config.get("window", 1)))
    return out[:, :k], out[:, k:]


def encoder_means(encoder: Encoder, mixes: torch.Tensor) -> torch.Tensor:
    """The posterior means ``(B, K, T)``: the starting point of ``langevin_separate(init="variational")``."""
    return encoder_posterior(encoder, mixes)[0]

#: the bundled prior set :func:`variational_separate` uses by default
DEFAULT_SET = "toy-wavenet"


def variational_separate(mix, priors: PriorSet | str | None = None, *, encoder: Encoder | str | None = None,
                         seed: int | None = None, samples: int = 1):
    """Separate in one pass with an amortised posterior q(s | m).

    mix: ``(T,)`` or ``(C, T)`` float array at the priors' rate (channels separated independently).
    priors: a :class:`PriorSet`, bundled name or folder (``None``: ``"toy-wavenet"``, whose bundled
    encoder separates the toy mixes; the ``"toy"`` flows' own does not). encoder: an
    :class:`Encoder`, a checkpoint stem, or ``None`` for the prior set's own ``encoder`` checkpoint.
    Returns ``{source: posterior mean shaped like mix}``; with ``samples > 1`` the pair
    ``(means, draws)`` where ``draws[source]`` is ``(samples, *mix.shape)``: their spread shows where
    the separation is unsure.
    """
    import numpy as np

    from ..data.audio import validate_mix
    from ..priors.io import load_priors

    arr = validate_mix(mix)
    if not isinstance(samples, (int, np.integer)) or isinstance(samples, bool) or samples < 1:
        raise ConfigError(f"samples must be an integer >= 1, got {samples!r}")
    if priors is None or isinstance(priors, str) or hasattr(priors, "__fspath__"):
        priors = load_priors(priors or DEFAULT_SET)
    encoder = resolve_encoder(priors, encoder)
    loc, scale = encoder_posterior(encoder, torch.from_numpy(np.atleast_2d(arr).copy()))
    means = {name: loc[:, k].numpy().reshape(arr.shape) for k, name in enumerate(priors.names)}
    if samples == 1:
        return means
    from .langevin import seeded_generator

    g = seeded_generator(seed)
    eps = torch.randn((samples, *loc.shape), generator=g, dtype=loc.dtype)
    draws = loc + scale * eps
    return means, {name: draws[:, :, k].numpy().reshape(samples, *arr.shape) for k, name in enumerate(priors.names)}
