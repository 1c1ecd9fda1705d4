"""Settings of the annealed separators (signal-space Langevin, mask-space search, polishing, chunking)."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from ..errors import ConfigError
from .mask_space import check_mask_settings


@dataclass
class LangevinConfig:
    """Sampler settings. Defaults are the benchmarked ones (see ``benchmarks/``)."""

    sigma_max: float = 1.0
    sigma_min: float = 0.01
    n_levels: int = 20
    steps_per_level: int = 20
    step_size: float = 0.5  # eta_i / sigma_i^2; BASIS' delta = step_size * sigma_min^2
    predictor: bool = False  # reverse-diffusion step sigma_i -> sigma_{i+1} before each level's Langevin steps
    constraint: str = "dirac"
    gamma_scale: float = 0.5  # gaussian constraint only: gamma_i = gamma_scale * sigma_i
    n_chains: int = 1
    select_below: float = 0.0  # with several chains: keep only the best one per mix once sigma <= this
    init: str = "mixture"  # "mixture": s_k = w_k m / |w|^2 + sigma_1 noise; "noise": sigma_1 noise;
    # "variational": the prior set's encoder's posterior means + sigma_1 noise (pair with a lower sigma_max)
    denoise: bool = True
    chunk: int = 16384  # samples per chunk for long mixes, overlapped by half
    chunk_batch: int = 16  # chunks sampled together (memory grows with it, not with the song's length)
    space: str = "signal"  # "signal": Langevin on the sources; "mask": annealed search on mask logits (mask_space.py)
    mask_lr: float = 0.1  # space="mask": Adam step on the logits
    mask_n_fft: int = 1024  # space="mask": STFT of the masks (samples)
    mask_hop: int = 256
    mask_distill: bool = True  # space="mask": score distillation (scores at s + sigma eps) or plain ascent at s
    mask_assign: bool = False  # space="mask": finally give each prior the estimate it rates highest (mask_space.reassign)
    polish_rounds: int = 0  # after the search: rounds of swap-and-refine (polish.py); 0 = off
    polish_swaps: int = 3  # pair swaps of slots tried per round, those the priors rate best before refinement
    polish_sigma: float = 0.05  # each candidate's refinement anneals from here down to sigma_min ...
    polish_levels: int = 5  # ... over this many levels,
    polish_mask_steps: int = 2  # first in mask space (steps per level; 0 = skip),
    polish_signal_steps: int = 6  # then by signal-space Langevin (dirac constraint, Tweedie step at the end)
    polish_split: bool = False  # each round also tries binary time-constant masks (polish.hard_frequency_split)
    polish_split_swap: bool = False  # each round also tries the split of its best swap after refinement, refined again
    score_precision: str = "float32"  # "bfloat16": the sampler's scores under CPU autocast (~1.6x faster WaveNet scores); ratings stay float32
    finish_steps: int = 0  # a last refinement of the final estimate as above, with this many signal-space steps per level; 0 = off

    def __post_init__(self):
        if self.constraint not in ("dirac", "gaussian"):
            raise ConfigError(f"constraint must be 'dirac' or 'gaussian', got {self.constraint!r}")
        if self.init not in ("mixture", "noise", "variational"):
            raise ConfigError(f"init must be 'mixture', 'noise' or 'variational', got {self.init!r}")
        if self.steps_per_level < 0 or (self.steps_per_level == 0 and not self.predictor):
            raise ConfigError("steps_per_level must be >= 1 (or >= 0 with predictor=True)")
        for name in ("n_levels", "n_chains", "chunk", "chunk_batch", "polish_levels", "polish_signal_steps"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.sigma_max >= self.sigma_min > 0:
            raise ConfigError(f"need sigma_max >= sigma_min > 0, got {self.sigma_max} and {self.sigma_min}")
        if self.step_size <= 0 or self.gamma_scale <= 0:
            raise ConfigError("step_size and gamma_scale must be positive")
        if self.score_precision not in ("float32", "bfloat16"):
            raise ConfigError(f"score_precision must be 'float32' or 'bfloat16', got {self.score_precision!r}")
        if self.space not in ("signal", "mask"):
            raise ConfigError(f"space must be 'signal' or 'mask', got {self.space!r}")
        if self.polish_rounds < 0 or self.polish_swaps < 0 or self.polish_mask_steps < 0 or self.finish_steps < 0:
            raise ConfigError("polish_rounds, polish_swaps, polish_mask_steps and finish_steps must be >= 0")
        if self.polish_split_swap and not (self.polish_split and self.polish_swaps > 0):
            raise ConfigError("polish_split_swap needs polish_split=True and polish_swaps >= 1")
        refines = self.polish_rounds > 0 or self.finish_steps > 0
        if refines and not self.polish_sigma >= self.sigma_min:
            raise ConfigError(f"need polish_sigma >= sigma_min, got {self.polish_sigma} and {self.sigma_min}")
        if self.space == "mask":
            check_mask_settings(self)
        elif refines and (self.polish_mask_steps or self.polish_split):  # their STFT settings: errors now, not later
            check_mask_settings(replace(self, constraint="dirac", predictor=False, polish_rounds=0, finish_steps=0))


def make_config(settings: dict) -> LangevinConfig:
    """A :class:`LangevinConfig` from user settings, with documented errors for unknown names and
    values of the wrong type."""
    known = {f.name: f for f in fields(LangevinConfig)}
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise ConfigError(f"unknown Langevin setting(s) {unknown}; expected some of {sorted(known)}")
    for key, value in settings.items():
        default = known[key].default
        ok = (isinstance(value, bool) if isinstance(default, bool) else
              isinstance(value, (int, np.integer)) and not isinstance(value, bool) if isinstance(default, int) else
              isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
              if isinstance(default, float) else isinstance(value, str))
        if not ok:
            raise ConfigError(f"Langevin setting {key}={value!r} should be a {type(default).__name__}")
        if isinstance(default, float) and not math.isfinite(float(value)):
            raise ConfigError(f"Langevin setting {key}={value!r} must be finite")
    return LangevinConfig(**settings)
