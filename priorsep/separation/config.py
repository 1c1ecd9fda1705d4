"""Settings of the annealed separators, in named parts.

:class:`SamplerConfig` = ``space`` (``"mask"``: the mask-space search; ``"signal"``: signal-space
Langevin), ``init``, ``score_precision`` and the parts :class:`Schedule`, :class:`SignalStep`,
:class:`MaskSearch`, :class:`Polish`, :class:`Chunking`, :class:`ExperimentalSampling` (options the
project measured as not helping). Its defaults are the bundled ``toy`` set's benchmarked search.

Users, the CLI and ``priorset.json`` files name settings with one flat key each (``sigma_max``,
``mask_lr``, ``polish_rounds``, ...); :data:`FLAT_KEYS` is the one mapping from those keys to the
parts, and :func:`make_config` builds a config from them. A key that has no effect under the
chosen settings (``step_size`` for a mask search without polishing, ``polish_swaps`` without
polishing, ...) is an error, not silence.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import ConfigError


@dataclass(frozen=True)
class Schedule:
    """The geometric noise schedule sigma_max -> sigma_min over ``n_levels``, ``steps_per_level`` each."""

    sigma_max: float = 0.1
    sigma_min: float = 0.01
    n_levels: int = 20
    steps_per_level: int = 12


@dataclass(frozen=True)
class SignalStep:
    """Signal-space Langevin: step eta_i = step_size * sigma_i^2; ``denoise``: a last Tweedie step."""

    step_size: float = 0.5
    denoise: bool = True


@dataclass(frozen=True)
class MaskSearch:
    """The mask-space search: Adam step ``lr`` on the logits of masks of an STFT (``n_fft``, ``hop``
    samples; both halved for mixes shorter than half a window,
    :func:`~priorsep.separation.mask_space.fitted_window`); ``distill``: scores at s + sigma eps (else
    plain ascent at s); ``assign``: finally give each prior the estimate it rates highest."""

    lr: float = 0.1
    n_fft: int = 1024
    hop: int = 256
    distill: bool = True
    assign: bool = False


@dataclass(frozen=True)
class Polish:
    """Swap-and-refine after the search (``rounds`` > 0): ``swaps`` pair swaps a round, each refined
    from ``sigma`` over ``levels`` (``mask_steps`` mask-search steps, then ``signal_steps`` Langevin
    steps per level) before the densities rate it; ``split`` adds the hard frequency split,
    ``split_swap`` the split of the best refined swap."""

    rounds: int = 0
    swaps: int = 3
    sigma: float = 0.05
    levels: int = 5
    mask_steps: int = 2
    signal_steps: int = 6
    split: bool = False
    split_swap: bool = False


@dataclass(frozen=True)
class Chunking:
    """Long mixes: chunks of ``chunk`` samples, each overlapping the next by the share ``overlap`` of a
    chunk (half: every sample but the ends separated twice; a quarter: a third less work), ``batch``
    of them searched together."""

    chunk: int = 16384
    batch: int = 16
    overlap: float = 0.5


@dataclass(frozen=True)
class ExperimentalSampling:
    """Options measured as not helping (docs/results/2026-11-signal-space-diagnostics.md): a
    reverse-diffusion ``predictor`` step between levels, the Gaussian ``constraint`` (likelihood
    std ``gamma_scale * sigma``), ``n_chains`` chains with the best kept once sigma <= ``select_below``,
    ``finish_steps`` of a final refinement, and the mask search's polar ``volume`` term (flat key
    ``mask_volume``: weight of (T - 1) log |s_k| added to each source's log density; 0: plain MAP of
    the samples; ``benchmarks/results/band_search/``), and ``init_alignments``: with
    ``init="variational"``, the encoder's means averaged over that many alignments of the mix
    (``docs/results/2026-12-06-speed.md``: +2.4 dB on the tuning mixes, +0.04 dB per estimate held out)."""

    predictor: bool = False
    constraint: str = "dirac"
    gamma_scale: float = 0.5
    n_chains: int = 1
    select_below: float = 0.0
    finish_steps: int = 0
    volume: float = 0.0
    init_alignments: int = 1


PARTS = {"schedule": Schedule, "signal": SignalStep, "mask": MaskSearch, "polish": Polish, "chunking": Chunking,
         "experimental": ExperimentalSampling}


@dataclass(frozen=True)
class SamplerConfig:
    """Everything an annealed separation run needs (see the module docstring)."""

    space: str = "mask"
    init: str = "mixture"  # "mixture" | "noise" | "variational" (an encoder's posterior means)
    score_precision: str = "float32"  # "bfloat16": the scores under CPU autocast; ratings stay float32
    schedule: Schedule = field(default_factory=Schedule)
    signal: SignalStep = field(default_factory=SignalStep)
    mask: MaskSearch = field(default_factory=MaskSearch)
    polish: Polish = field(default_factory=Polish)
    chunking: Chunking = field(default_factory=Chunking)
    experimental: ExperimentalSampling = field(default_factory=ExperimentalSampling)

    def __post_init__(self):
        _check(self)

    def updated(self, **settings) -> SamplerConfig:
        """A copy with some flat settings (:data:`FLAT_KEYS`) changed, checked as a whole."""
        parts: dict = {}
        top = {}
        for key, value in settings.items():
            part, name = FLAT_KEYS[key]
            if part is None:
                top[name] = value
            else:
                parts.setdefault(part, {})[name] = value
        return replace(self, **top, **{p: replace(getattr(self, p), **kw) for p, kw in parts.items()})

    def settings(self) -> dict:
        """The flat settings (every key of :data:`FLAT_KEYS`), e.g. for a results file."""
        return {key: getattr(self, name) if part is None else getattr(getattr(self, part), name)
                for key, (part, name) in FLAT_KEYS.items()}


#: flat setting -> (part, field); part None: a field of SamplerConfig itself. The one documented
#: mapping of the keys users, the CLI and priorset.json files use (unchanged since 0.1.0).
FLAT_KEYS: dict[str, tuple[str | None, str]] = {
    "space": (None, "space"), "init": (None, "init"), "score_precision": (None, "score_precision"),
    **{k: ("schedule", k) for k in ("sigma_max", "sigma_min", "n_levels", "steps_per_level")},
    "step_size": ("signal", "step_size"), "denoise": ("signal", "denoise"),
    **{f"mask_{k}": ("mask", k) for k in ("lr", "n_fft", "hop", "distill", "assign")},
    **{f"polish_{k}": ("polish", k) for k in ("rounds", "swaps", "sigma", "levels", "mask_steps", "signal_steps",
                                              "split", "split_swap")},
    "chunk": ("chunking", "chunk"), "chunk_batch": ("chunking", "batch"), "chunk_overlap": ("chunking", "overlap"),
    **{k: ("experimental", k) for k in ("predictor", "constraint", "gamma_scale", "n_chains", "select_below",
                                        "finish_steps", "init_alignments")},
    "mask_volume": ("experimental", "volume"),
}

#: flat keys of :class:`ExperimentalSampling`: accepted, but not offered by the CLI's --help
EXPERIMENTAL_KEYS = tuple(k for k, (part, _) in FLAT_KEYS.items() if part == "experimental")


def flat_defaults() -> dict:
    """Every flat setting's default (its type is the default's type)."""
    return SamplerConfig().settings()


def _check(c: SamplerConfig) -> None:
    """Values that cannot work, raised before any work is done."""
    s, x, p, m = c.schedule, c.experimental, c.polish, c.mask
    if c.space not in ("signal", "mask"):
        raise ConfigError(f"space must be 'signal' or 'mask', got {c.space!r}")
    if c.init not in ("mixture", "noise", "variational"):
        raise ConfigError(f"init must be 'mixture', 'noise' or 'variational', got {c.init!r}")
    if c.score_precision not in ("float32", "bfloat16"):
        raise ConfigError(f"score_precision must be 'float32' or 'bfloat16', got {c.score_precision!r}")
    if x.constraint not in ("dirac", "gaussian"):
        raise ConfigError(f"constraint must be 'dirac' or 'gaussian', got {x.constraint!r}")
    if s.steps_per_level < 0 or (s.steps_per_level == 0 and not x.predictor):
        raise ConfigError("steps_per_level must be >= 1 (or >= 0 with predictor=True)")
    for key, value in (("n_levels", s.n_levels), ("n_chains", x.n_chains), ("chunk", c.chunking.chunk),
                       ("init_alignments", x.init_alignments),
                       ("chunk_batch", c.chunking.batch), ("polish_levels", p.levels),
                       ("polish_signal_steps", p.signal_steps)):
        if value < 1:
            raise ConfigError(f"{key} must be >= 1, got {value}")
    if not 0 <= c.chunking.overlap < 1:
        raise ConfigError(f"chunk_overlap must be in [0, 1) (the share of a chunk the next one overlaps), "
                          f"got {c.chunking.overlap}")
    if not s.sigma_max >= s.sigma_min > 0:
        raise ConfigError(f"need sigma_max >= sigma_min > 0, got {s.sigma_max} and {s.sigma_min}")
    if c.signal.step_size <= 0 or x.gamma_scale <= 0:
        raise ConfigError("step_size and gamma_scale must be positive")
    if p.rounds < 0 or p.swaps < 0 or p.mask_steps < 0 or x.finish_steps < 0:
        raise ConfigError("polish_rounds, polish_swaps, polish_mask_steps and finish_steps must be >= 0")
    if p.split_swap and not (p.split and p.swaps > 0):
        raise ConfigError("polish_split_swap needs polish_split=True and polish_swaps >= 1")
    if (p.rounds > 0 or x.finish_steps > 0) and not p.sigma >= s.sigma_min:
        raise ConfigError(f"need polish_sigma >= sigma_min, got {p.sigma} and {s.sigma_min}")
    if c.space == "mask":
        if x.constraint != "dirac":
            raise ConfigError("space='mask' meets the mixture exactly; it takes constraint='dirac', "
                              f"got {x.constraint!r}")
        if x.predictor:
            raise ConfigError("space='mask' has no reverse-diffusion predictor; set predictor=False")
    if c.space == "mask" or p.mask_steps or p.split:  # their STFT settings: errors now, not later
        if m.lr <= 0 or not math.isfinite(m.lr):
            raise ConfigError(f"mask_lr must be positive and finite, got {m.lr}")
        if x.volume < 0 or not math.isfinite(x.volume):
            raise ConfigError(f"mask_volume must be >= 0 and finite, got {x.volume}")
        if m.n_fft < 2 or m.hop < 1 or m.hop > m.n_fft // 2:
            raise ConfigError(f"need mask_n_fft >= 2 and 1 <= mask_hop <= mask_n_fft / 2 (the inverse STFT must be "
                              f"exact), got {m.n_fft} and {m.hop}")


def _no_effect(c: SamplerConfig) -> set[str]:
    """Flat keys that change nothing under ``c``."""
    refines = c.polish.rounds > 0 or c.experimental.finish_steps > 0
    idle = set()
    if c.init != "variational":
        idle.add("init_alignments")
    if c.space == "mask":
        idle.add("denoise")
        if not refines:
            idle.add("step_size")
    if c.space != "mask" and not (refines and c.polish.mask_steps):
        idle |= {"mask_lr", "mask_distill", "mask_volume"}
        if not (refines and c.polish.split):
            idle |= {"mask_n_fft", "mask_hop"}
    if c.space != "mask":
        idle.add("mask_assign")
    if c.polish.rounds == 0:
        idle |= {"polish_swaps", "polish_split", "polish_split_swap"}
        if not refines:
            idle |= {"polish_sigma", "polish_levels", "polish_mask_steps", "polish_signal_steps"}
    if c.experimental.n_chains == 1:
        idle.add("select_below")
    if c.experimental.constraint != "gaussian":
        idle.add("gamma_scale")
    return idle


def make_config(settings: dict, base: dict | None = None) -> SamplerConfig:
    """A :class:`SamplerConfig` from flat ``settings`` over flat ``base`` settings (a prior set's
    benchmarked ones), over the defaults. Documented errors for unknown keys, values of the wrong
    type, and keys in ``settings`` that would have no effect (``base`` may carry keys the chosen
    mode does not use: a set's mask settings when the caller asks for ``space="signal"``)."""
    base = dict(base or {})
    defaults = flat_defaults()
    unknown = sorted((set(settings) | set(base)) - set(defaults))
    if unknown:
        raise ConfigError(f"unknown Langevin setting(s) {unknown}; expected some of {sorted(defaults)}")
    for key, value in {**base, **settings}.items():
        _check_type(key, value, defaults[key])
    config = SamplerConfig().updated(**{**base, **settings})
    idle = sorted(set(settings) & _no_effect(config))
    if idle:
        raise ConfigError(f"setting(s) {idle} have no effect with space={config.space!r}, "
                          f"polish_rounds={config.polish.rounds}, n_chains={config.experimental.n_chains}, "
                          f"constraint={config.experimental.constraint!r}; leave them out")
    return config


def _check_type(key: str, value, default) -> None:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(f"Langevin setting {key}={value!r} should be a {type(default).__name__}")
    if isinstance(default, float) and not math.isfinite(float(value)):
        raise ConfigError(f"Langevin setting {key}={value!r} must be finite")


__all__ = ["Chunking", "EXPERIMENTAL_KEYS", "ExperimentalSampling", "FLAT_KEYS", "MaskSearch", "PARTS", "Polish",
           "SamplerConfig", "Schedule", "SignalStep", "flat_defaults", "make_config"]
