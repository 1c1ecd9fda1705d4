"""What users call: :func:`load_separator` builds any method behind the one
:class:`~priorsep.separator.Separator` protocol; :func:`langevin_separate` and
:func:`variational_separate` are the one-call forms.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from .baselines.io import baseline_kinds, bundled_baselines
from .baselines.io import load as load_baseline
from .checkpoint import checkpoint_paths
from .device import resolve_device
from .encoders import EncoderDraws
from .errors import ConfigError, UnknownNameNotFoundError
from .priors.io import PRIOR_METHODS, PriorSet, bundled_prior_sets, load_priors, prior_set_folder, prior_set_meta
from .separation.config import make_config
from .separation.draws import DrawSettings
from .separation.separators import LangevinSeparator, VariationalSeparator, check_samples
from .separator import Separator

#: the hybrid's starting noise level: the encoder's estimate is already close, so the annealing
#: refines it instead of searching from scratch (sigma_max 1 would wash it out)
HYBRID_SIGMA_MAX = 0.1

#: the bundled prior set :func:`variational_separate` uses by default (its encoder separates the
#: toy mixes; the ``"toy"`` flows' own does not)
DEFAULT_VARIATIONAL_SET = "toy-wavenet"


def _is_baseline(spec) -> bool:
    """Whether ``spec`` names a bundled baseline or a baseline checkpoint stem."""
    if str(spec) in bundled_baselines():
        return True
    config = checkpoint_paths(spec)[1]
    if not config.is_file():
        return False
    import json

    try:
        return json.loads(config.read_text()).get("kind") in baseline_kinds()
    except (json.JSONDecodeError, AttributeError):
        return False  # not a readable baseline config: left to the prior-set loader's error


def load_separator(spec: str | Path | PriorSet | Separator, method: str | None = None, *, encoder=None,
                   seed: int | None = 0, progress: bool = False,
                   draws: DrawSettings | EncoderDraws | dict | None = None, device: str | torch.device | None = None,
                   **settings) -> Separator:
    """A :class:`~priorsep.separator.Separator` from ``spec``, its settings validated before any audio is read.

    spec: a bundled prior set (``"toy"``, ``"toy-wavenet"``, ``"band"``), a folder of prior
    checkpoints, a loaded :class:`~priorsep.priors.io.PriorSet`, a bundled baseline
    (``"waveunet-toy"``, ...) or a baseline checkpoint stem (``STEM.pt`` + ``STEM.json``).
    method: ``"baseline"`` for a baseline (implied by its name), or for a prior set ``"langevin"``
    (the annealed separator with the set's benchmarked settings, which for every bundled set is the
    mask-space search), ``"variational"`` (the encoder's posterior means), ``"hybrid"`` (the annealing
    started from them at ``sigma_max <= HYBRID_SIGMA_MAX``) or ``"fit"`` (the set's spectral priors
    fitted to the mix, where it has them: a MAP-like search over their latents, no settings); ``None``:
    the set's default (:func:`default_method`: ``"fit"`` for ``"band"``, ``"langevin"`` for the toy
    sets). encoder: an encoder module or stem instead of the set's own.
    seed: the search's seed (same seed, same output). settings: any
    :class:`~priorsep.separation.config.SamplerConfig` field, over the set's own. draws: how posterior
    draws are made, for langevin and hybrid a :class:`~priorsep.separation.draws.DrawSettings`, for
    variational an :class:`~priorsep.encoders.EncoderDraws`, or a dict of its fields. device:
    where it separates (``"cpu"``, ``"cuda"``, ``"cuda:N"``; ``None``: where its weights are, the
    CPU for a freshly loaded one); every model moves there (a :class:`PriorSet` in place).
    """
    dev = None if device is None else resolve_device(device)  # a device this machine lacks: before any loading
    sep = _load_separator(spec, method, encoder=encoder, seed=seed, progress=progress, draws=draws, **settings)
    return sep if dev is None else sep.to(dev)


def _load_separator(spec, method, *, encoder, seed, progress, draws, **settings) -> Separator:
    """:func:`load_separator` on the device its weights load to."""
    if not isinstance(spec, (str, PriorSet, Separator)) and not hasattr(spec, "__fspath__"):
        raise ConfigError(f"expected a bundled name, a folder or checkpoint stem, a PriorSet or a Separator; "
                          f"got {type(spec).__name__}")
    if isinstance(spec, Separator):
        if method is not None or settings or encoder is not None or draws is not None:
            raise ConfigError("a built separator takes no method, encoder, draws or settings")
        return spec
    if method == "baseline" or (method is None and not isinstance(spec, PriorSet) and _is_baseline(spec)):
        if settings or encoder is not None or draws is not None:
            given = sorted(settings) + [k for k, v in (("encoder", encoder), ("draws", draws)) if v is not None]
            raise ConfigError(f"{spec} is a baseline separator; sampler settings, draws and encoders apply to prior "
                              f"sets only (got {given})")
        return load_baseline(spec)
    if method is None and not isinstance(spec, PriorSet) and not Path(spec).is_dir() \
            and str(spec) not in bundled_prior_sets():
        raise UnknownNameNotFoundError(
            f"no prior set or baseline {str(spec)!r}: not a prior-set folder, a bundled prior set "
            f"{bundled_prior_sets()}, a bundled baseline {bundled_baselines()} or a baseline checkpoint stem "
            "(STEM.pt + STEM.json)")
    if method is not None and method not in PRIOR_METHODS:
        raise ConfigError(f"unknown method {method!r}; expected 'baseline' or, for a prior set, one of "
                          f"{list(PRIOR_METHODS)}")
    priors = spec if isinstance(spec, PriorSet) else load_priors(spec)
    method = method or priors.default_method
    if method == "fit":
        return _fit_separator(priors, settings, encoder, draws)
    if method == "variational" and settings:
        raise ConfigError(f"variational separation is one encoder pass; it takes no sampler settings "
                          f"(got {sorted(settings)})")
    draws = _draw_settings(EncoderDraws if method == "variational" else DrawSettings, draws, method)
    if method == "variational":
        return VariationalSeparator(priors, encoder, seed=seed, draws=draws)
    if method == "hybrid":
        settings = {**settings, "init": "variational",
                    "sigma_max": min(HYBRID_SIGMA_MAX, settings.get("sigma_max", HYBRID_SIGMA_MAX))}
    config = make_config(settings, base=priors.sampler)
    return LangevinSeparator(priors, config, seed=seed, encoder=encoder, progress=progress, draws=draws)


def default_method(spec: str | Path | PriorSet) -> str:
    """The method :func:`load_separator` runs for the prior set ``spec`` when none is named (its
    ``priorset.json``'s ``"default"``, else ``"langevin"``), read without loading any weights."""
    if isinstance(spec, PriorSet):
        return spec.default_method
    if not isinstance(spec, str) and not hasattr(spec, "__fspath__"):
        raise ConfigError(f"expected a prior set: a bundled name, a folder or a PriorSet; got {type(spec).__name__}")
    return prior_set_meta(prior_set_folder(spec))["default"]


def _fit_separator(priors: PriorSet, settings: dict, encoder, draws) -> Separator:
    """The separator that fits ``priors``' spectral priors (``priors.fit``: a checkpoint stem beside the set,
    else a bundled separator name), checked to separate the same sources at the same rate and weights."""
    where = priors.path or priors.names
    if priors.fit is None:
        raise ConfigError(f"the prior set {where} has no spectral priors to fit (its priorset.json names no 'fit'); "
                          f"its methods are 'langevin', 'variational' and 'hybrid'")
    given = sorted(settings) + [k for k, v in (("encoder", encoder), ("draws", draws)) if v is not None]
    if given:
        raise ConfigError(f"method 'fit' fits the prior set's spectral priors ({priors.fit}); it takes no sampler "
                          f"settings, encoder or draws (got {given}): those are for the annealed search of its "
                          f"waveform priors, method 'langevin'")
    beside = priors.path / priors.fit if priors.path is not None else None
    sep = load_baseline(beside if beside is not None and checkpoint_paths(beside)[0].is_file() else priors.fit)
    if (sep.names, sep.sample_rate, sep.weights) != (priors.names, priors.sample_rate, priors.weights):
        raise ConfigError(f"the prior set {where}'s spectral priors {priors.fit} separate {sep.names} at "
                          f"{sep.sample_rate} Hz with weights {sep.weights}; the set has {priors.names} at "
                          f"{priors.sample_rate} Hz with weights {priors.weights}")
    return sep


def _draw_settings(kind: type, draws, method: str):
    """``draws`` as a ``kind`` (:class:`DrawSettings` or :class:`EncoderDraws`) from itself, a dict of its
    fields or ``None``; anything else is a :class:`ConfigError` naming what ``method`` takes."""
    names = [f.name for f in dataclasses.fields(kind)]
    if isinstance(draws, dict):
        if set(draws) - set(names):
            raise ConfigError(f"{method} draw settings are {kind.__name__} fields {names}; got "
                              f"{sorted(set(draws) - set(names))}")
        return kind(**draws)
    if draws is not None and not isinstance(draws, kind):
        raise ConfigError(f"{method} draws take {kind.__name__} (or a dict of its fields {names}), not "
                          f"{type(draws).__name__}")
    return draws


def prior_set_separators(spec, *, encoder=None, seed: int | None = 0, draws: DrawSettings | dict | None = None,
                         encoder_draws: EncoderDraws | dict | None = None, device: str | torch.device | None = None,
                         **settings) -> list[Separator]:
    """The benchmark rows of a prior set: the fit of its spectral priors where it has them, its annealed
    separator, and where it has an encoder (its own or ``encoder``) the variational separator and,
    unless the annealed one already starts from the encoder (the ``toy`` set's default), the hybrid
    (``draws``: the annealed ones' draw settings, ``encoder_draws``: the variational one's), on ``device``."""
    from .encoders import own_encoder

    priors = spec if isinstance(spec, PriorSet) else load_priors(spec)
    annealed = load_separator(priors, "langevin", seed=seed, draws=draws, device=device, **settings)
    rows = ([load_separator(priors, "fit", device=device)] if priors.fit is not None else []) + [annealed]
    if encoder is not None or own_encoder(priors) is not None:
        rows.append(load_separator(priors, "variational", encoder=encoder, seed=seed, draws=encoder_draws,
                                   device=device))
        if annealed.config.init != "variational":
            rows.append(load_separator(priors, "hybrid", encoder=encoder, seed=seed, draws=draws, device=device,
                                       **settings))
    return rows


def benchmark_separators(prior_sets: list, baselines: list, *, encoder=None, seed: int | None = 0,
                         draws: DrawSettings | dict | None = None, encoder_draws: EncoderDraws | dict | None = None,
                         device: str | torch.device | None = None, **settings) -> list[Separator]:
    """The rows of a benchmark: every prior set's rows (:func:`prior_set_separators`, with the
    sampler ``settings``, ``draws``, ``encoder_draws`` and ``seed``), then every baseline (names,
    stems or loaded separators), all on ``device``."""
    rows = [sep for spec in prior_sets
            for sep in prior_set_separators(spec, encoder=encoder, seed=seed, draws=draws, encoder_draws=encoder_draws,
                                            device=device, **settings)]
    return rows + [load_separator(spec, device=device) for spec in baselines]


def langevin_separate(mix, priors: PriorSet | str | Path | None = None, *, seed: int | None = None,
                      progress: bool = False, encoder=None, samples: int = 1, draws: DrawSettings | dict | None = None,
                      device: str | torch.device | None = None, **settings):
    """Separate a mixture under independently trained priors with the prior set's default method
    (:func:`default_method`). For a set of waveform priors that is its benchmarked annealed procedure,
    which for the toy sets is the mask-space search (a MAP-like estimate), and ``space="signal"`` runs
    signal-space annealed Langevin dynamics. The ``"band"`` set's default is the fit of its spectral
    priors (method ``"fit"``, no sampler settings and no draws; a MAP-like search too): its waveform
    flows separate worse, and ``load_separator("band", "langevin", **settings)`` runs their search.

    mix: ``(T,)`` or ``(C, T)`` float array at the priors' sample rate (channels separated
    independently). priors: a :class:`PriorSet`, bundled name or folder (``None``: ``"toy"``).
    settings: any :class:`~priorsep.separation.config.SamplerConfig` field over the set's own.
    ``init="variational"`` starts from an encoder's posterior means (``encoder``: module or stem,
    default the set's own). Returns ``{source name: array shaped like mix}``; with ``samples > 1`` the
    pair ``(means, draws)``: ``draws[source]`` shaped ``(samples, *mix.shape)``, posterior draws by
    signal-space Langevin dynamics under the exact mixing constraint started from the search's estimate
    and its restarts (:mod:`priorsep.separation.draws`; ``draws``: their other settings), ``means`` their
    mean. :func:`priorsep.separation.uncertainty.confidence_db` turns a source's draws into one number.
    device: where to separate (``"cpu"``, ``"cuda"``; arrays in and out stay NumPy).
    """
    check_samples(samples)
    priors = priors if priors is not None else "toy"
    # the set's default resolved here: a prior set, never a baseline's name (default_method refuses one)
    sep = load_separator(priors, default_method(priors), encoder=encoder, seed=seed, progress=progress,
                         draws=draws, device=device, **settings)
    if samples == 1:
        return sep.separate(mix)
    if not hasattr(sep, "separate_with_draws"):
        raise ConfigError(f"{sep.label} gives no posterior draws (samples={samples}); the annealed search of "
                          f"waveform priors does (load_separator(priors, 'langevin'))")
    return sep.separate_with_draws(mix, samples)


def variational_separate(mix, priors: PriorSet | str | Path | None = None, *, encoder=None, seed: int | None = None,
                         samples: int = 1, draws: EncoderDraws | dict | None = None,
                         device: str | torch.device | None = None):
    """Separate in one pass with an amortised posterior q(s | m).

    mix: ``(T,)`` or ``(C, T)`` float array at the priors' rate. priors: a :class:`PriorSet`,
    bundled name or folder (``None``: :data:`DEFAULT_VARIATIONAL_SET`). encoder: module, stem, or
    ``None`` for the set's own. Returns ``{source: posterior mean shaped like mix}``; with
    ``samples > 1`` the pair ``(means, draws)``, ``draws[source]`` shaped ``(samples, *mix.shape)``:
    draws of the mixture of q over several alignments of the mix (``draws``: how,
    :class:`~priorsep.encoders.EncoderDraws`). device: where to separate (``"cpu"``, ``"cuda"``).
    """
    check_samples(samples)
    sep = load_separator(priors if priors is not None else DEFAULT_VARIATIONAL_SET, "variational", encoder=encoder,
                         seed=seed, draws=draws, device=device)
    if samples == 1:
        return sep.separate(mix)
    return sep.separate_with_draws(mix, samples)
