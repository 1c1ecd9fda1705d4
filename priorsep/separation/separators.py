"""The prior-based methods behind the :class:`~priorsep.separator.Separator` protocol.

* :class:`LangevinSeparator`: the annealed separator of a prior set under a
  :class:`~priorsep.separation.config.SamplerConfig`. With ``space="mask"`` (every bundled set's
  benchmarked setting) it runs the mask-space *search*, a MAP-like estimate; with
  ``space="signal"`` signal-space annealed Langevin dynamics. Its ``label`` says which.
* :class:`VariationalSeparator`: one pass of a prior set's amortised posterior (encoder).
"""
from __future__ import annotations

import numpy as np
import torch

from ..device import resolve_device
from ..encoders import EncoderDraws, encoder_draws, encoder_means, encoder_posterior, resolve_encoder
from ..errors import ConfigError
from ..priors.io import PriorSet
from ..seeding import seeded_generator
from ..separator import Separator
from .config import SamplerConfig, make_config
from .draws import DrawSettings, separate_with_draws
from .langevin import separate_tensor as anneal_chunks


class _PriorSetSeparator(Separator):
    """Names, rate and mixing weights come from the prior set."""

    def __init__(self, priors: PriorSet):
        if not isinstance(priors, PriorSet):
            raise ConfigError(f"priors must be a PriorSet, a bundled set name or a folder; got {type(priors).__name__}")
        self.priors = priors

    @property
    def names(self) -> list[str]:
        return list(self.priors.names)

    @property
    def sample_rate(self) -> int:
        return self.priors.sample_rate

    @property
    def weights(self) -> list[float]:
        return self.priors.weights

    @property
    def device(self) -> torch.device:
        return self.priors.device

    def to(self, device: torch.device | str | None) -> "_PriorSetSeparator":
        """Separate on ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``; checked by
        :func:`~priorsep.device.resolve_device`): the priors and the encoder move there. Returns self."""
        dev = resolve_device(device)
        self.priors.to(dev)
        if getattr(self, "encoder", None) is not None:
            self.encoder.to(dev)
        return self


def _folded(fn, mixes: torch.Tensor) -> torch.Tensor:
    """Apply a one-channel ``fn((N, T)) -> (N, K, T)`` to ``mixes (B, C, T)``: ``(B, K, C, T)``."""
    b, c, t = mixes.shape
    est = fn(mixes.reshape(b * c, t))
    return est.reshape(b, c, est.shape[1], t).transpose(1, 2)


class LangevinSeparator(_PriorSetSeparator):
    """Annealed separation under a prior set: the mask-space search or signal-space Langevin.

    ``config``: the settings (default: the set's benchmarked ones, ``priors.sampler``). ``seed``:
    every call to :meth:`separate` starts from this seed (``None``: fresh entropy each call).
    ``encoder`` (for ``init="variational"``, the hybrid): an encoder module or stem, default the
    set's own. ``progress``: the search's progress bar. ``draws``: how
    :meth:`separate_with_draws` makes posterior draws (default :class:`~.draws.DrawSettings`).
    """

    def __init__(self, priors: PriorSet, config: SamplerConfig | None = None, *, seed: int | None = 0,
                 encoder=None, progress: bool = False, draws: DrawSettings | None = None):
        super().__init__(priors)
        self.config = config if config is not None else make_config({}, base=priors.sampler)
        seeded_generator(seed)  # a bad seed is an error now, before any audio is read
        self.seed, self.progress = seed, progress
        self.encoder = resolve_encoder(priors, encoder) if self.config.init == "variational" else None
        self.draws = draws if draws is not None else DrawSettings()

    @property
    def label(self) -> str:
        method = "mask-search" if self.config.space == "mask" else "Langevin"
        return f"{method}-{self.priors.kind}" + ("+var. init" if self.encoder is not None else "")

    def _init_fn(self):
        if self.encoder is None:
            return None
        return lambda x: encoder_means(self.encoder, x, self.config.experimental.init_alignments)

    def _restart_fn(self, generator: torch.Generator):
        """The starts of the draws' later restarts from the encoder (``restart_init="encoder"``): its
        estimates of the mix at the other ``n`` of ``n + 1`` alignments (the first is the search's)."""
        if self.encoder is None:
            return None
        return lambda x, n: encoder_draws(self.encoder, x, n + 1, generator,
                                          settings=EncoderDraws(alignments=n + 1, scale_factor=0.0))[1:]

    def separate_tensor(self, mixes: torch.Tensor) -> torch.Tensor:
        generator = seeded_generator(self.seed, mixes.device)
        init_fn = self._init_fn()
        with torch.no_grad():
            return _folded(lambda x: anneal_chunks(self.priors, x, self.config, generator, self.progress, init_fn),
                           mixes)

    def separate_with_draws(self, mix, samples: int | None = None
                            ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``(means, draws)`` for ``mix (T,)`` or ``(C, T)``: ``draws[source]`` ``(samples, *mix.shape)``
        posterior draws (:mod:`~priorsep.separation.draws`; ``samples`` default ``self.draws.samples``),
        ``means[source]`` their mean. The plain search's estimate is what :meth:`separate` returns
        (same seed); the draws' spread (:mod:`~priorsep.separation.uncertainty`) says how far to trust it."""
        return self.search_and_draws(mix, samples)[1:]

    def search_and_draws(self, mix, samples: int | None = None
                         ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``(search, means, draws)``: :meth:`separate_with_draws` plus the search estimate the first
        chains started from (what :meth:`separate` returns)."""
        settings = self.draws
        if samples is not None:
            check_samples(samples)
            settings = DrawSettings(**{**vars(settings), "samples": int(samples),
                                       "restarts": min(settings.restarts, int(samples))})
        arr, x = self.mix_channels(mix)  # (C, T): channels separated on their own
        with torch.no_grad():
            generator = seeded_generator(self.seed, x.device)
            search, d = separate_with_draws(self.priors, x, self.config, settings, generator, self.progress,
                                            self._init_fn(), self._restart_fn(generator))
        est = search.cpu().numpy().astype(np.float32)
        means, draws = _means_and_draws(d, self.names, arr.shape)
        return {name: est[:, k].reshape(arr.shape) for k, name in enumerate(self.names)}, means, draws


class VariationalSeparator(_PriorSetSeparator):
    """One pass of an amortised posterior q(s | m): the posterior means, and draws on request.

    ``encoder``: an encoder module or stem; ``None`` for the prior set's own. ``seed``: the draws'
    seed, ``draws``: how they are made (:class:`~priorsep.encoders.EncoderDraws` or its fields as a
    dict; :meth:`separate_with_draws`).
    """

    def __init__(self, priors: PriorSet, encoder=None, *, seed: int | None = 0,
                 draws: EncoderDraws | dict | None = None):
        super().__init__(priors)
        self.encoder = resolve_encoder(priors, encoder)
        seeded_generator(seed)
        self.seed = seed
        self.draws = EncoderDraws(**draws) if isinstance(draws, dict) else draws or EncoderDraws()

    @property
    def label(self) -> str:
        return f"variational-{self.priors.kind}"

    def separate_tensor(self, mixes: torch.Tensor) -> torch.Tensor:
        return _folded(lambda x: encoder_posterior(self.encoder, x)[0], mixes)

    def separate_with_draws(self, mix, samples: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``(means, draws)`` for ``mix (T,)`` or ``(C, T)``: ``means[source]`` shaped like the mix,
        ``draws[source]`` ``(samples, *mix.shape)``. Their spread shows where the separation is unsure.
        The draws come from the mixture of the encoder's posteriors over several alignments of the
        mix (``self.draws``); a mask encoder with a per-bin scale draws each in mask space (every
        draw meets the mix), other encoders mu + scale * eps in signal space. ``means``: the
        encoder's posterior means, what :meth:`separate` returns."""
        check_samples(samples)
        arr, x = self.mix_channels(mix)
        loc, _ = encoder_posterior(self.encoder, x)
        means = {name: loc[:, k].cpu().numpy().reshape(arr.shape) for k, name in enumerate(self.names)}
        generator = seeded_generator(self.seed, x.device)
        draws = encoder_draws(self.encoder, x, samples, generator, settings=self.draws).cpu()
        return means, {name: draws[:, :, k].numpy().reshape(samples, *arr.shape)
                       for k, name in enumerate(self.names)}


def check_samples(samples) -> None:
    """Posterior draws per mix must be an integer >= 1 (a :class:`~priorsep.errors.ConfigError` otherwise)."""
    if not isinstance(samples, (int, np.integer)) or isinstance(samples, bool) or samples < 1:
        raise ConfigError(f"samples must be an integer >= 1, got {samples!r}")


def _means_and_draws(draws: torch.Tensor, names: list[str], shape: tuple
                     ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``draws (S, C, K, T)`` -> ``({source: mean shaped like the mix}, {source: (S, *shape)})``."""
    d = draws.cpu().numpy().astype(np.float32)
    out = {name: d[:, :, k].reshape(d.shape[0], *shape) for k, name in enumerate(names)}
    return {name: x.mean(0) for name, x in out.items()}, out
