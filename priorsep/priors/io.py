"""Prior checkpoints (state_dict + JSON config, written atomically) and prior sets."""
from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Iterator

import torch

from ..checkpoint import load_model, save_model, user_path
from ..registry import KindTable, resolve
from .base import Prior
from .flow import FlowPrior  # noqa: F401  (importing a family registers it)
from .gaussian import GaussianPrior  # noqa: F401
from .wavenet import WaveNetPrior  # noqa: F401
from ..errors import (CheckpointError, CheckpointNotFoundError, ConfigError, SampleRateError, UnknownNameError,
                      UnknownNameNotFoundError)

#: ``kind -> class`` of every prior family, the experimental ones (:mod:`priorsep.experimental`)
#: imported on first use: ``PRIOR_KINDS["flow"](config)``. See :mod:`priorsep.registry`.
PRIOR_KINDS = KindTable("prior")
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"


def save_prior(prior: Prior, stem: str | Path) -> None:
    """Save ``stem.pt`` (state_dict) and ``stem.json`` (config with kind, module and library version).
    The config's ``mix_weight`` is this one source's mixing weight."""
    save_model(prior, stem, "prior")


def build_prior(config: dict) -> Prior:
    """A new prior of the family ``config["kind"]`` names (an experimental family's module is
    imported on demand; a flow config with ``unet_levels`` > 0 is the experimental U-Net flow)."""
    return resolve("prior", config)(config)


def load_prior(stem: str | Path) -> Prior:
    """Load one prior from ``stem.pt`` + ``stem.json`` (eval mode)."""
    return load_model(stem, "prior")


#: methods of a prior set (:func:`priorsep.load_separator`), any of which its ``priorset.json`` may name as the
#: default: the annealed separator with the set's settings, the encoder's one pass, the annealed separator started
#: from the encoder's estimate, and the fit of the set's spectral priors (where it names them: the band set's VAEs)
PRIOR_METHODS = ("langevin", "variational", "hybrid", "fit")
#: the default method of a set whose ``priorset.json`` names none
DEFAULT_METHOD = "langevin"

class PriorSet:
    """An ordered set of priors, one per source, with shared sample rate and mixing weights.

    ``sampler``: Langevin settings benchmarked for this set (``priorset.json``'s ``"langevin"``),
    used by :func:`priorsep.langevin_separate` unless the caller overrides them. ``fit``: the set's
    spectral priors where it has them (``priorset.json``'s ``"fit"``: a bundled separator name or a
    checkpoint stem beside the set, e.g. the band set's spectral VAEs), fitted to a mix by the method
    ``"fit"``. ``default_method``: the method :func:`priorsep.load_separator` and
    :func:`priorsep.langevin_separate` run when none is named (``"default"``; ``"langevin"`` unless given).
    """

    def __init__(self, priors: list[Prior], sampler: dict | None = None, *, fit: str | None = None,
                 default_method: str = DEFAULT_METHOD):
        if not priors:
            raise ConfigError("a prior set needs at least one prior")
        names = [p.name for p in priors]
        if len(set(names)) != len(names):
            raise ConfigError(f"duplicate source names in prior set: {names}")
        rates = {p.name: p.sample_rate for p in priors}
        if len(set(rates.values())) > 1:
            raise SampleRateError(f"priors have mismatched sample rates {rates}; "
                                  "all priors of a set must share one rate")
        self.priors = list(priors)
        self.sampler = dict(sampler or {})
        if default_method not in PRIOR_METHODS or (default_method == "fit" and fit is None):
            raise ConfigError(f"a prior set's default method is one of {list(PRIOR_METHODS)} ('fit' only with "
                              f"spectral priors to fit), got {default_method!r}")
        self.fit, self.default_method = fit, default_method
        self.path: Path | None = None  # the folder it was loaded from (which may hold its encoder)

    @property
    def kind(self) -> str:
        """The prior family (``"flow"``, ``"wavenet"``, ...), or ``"mixed"``."""
        kinds = {p.kind for p in self.priors}
        return kinds.pop() if len(kinds) == 1 else "mixed"

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.priors]

    @property
    def sample_rate(self) -> int:
        return self.priors[0].sample_rate

    @property
    def weights(self) -> list[float]:
        return [float(p.config.get("mix_weight", 1.0)) for p in self.priors]

    @property
    def length_multiple(self) -> int:
        return math.lcm(*(p.length_multiple for p in self.priors))

    def __len__(self) -> int:
        return len(self.priors)

    @property
    def device(self) -> torch.device:
        """Where the priors' weights are (the first parameter or buffer found; CPU for none)."""
        first = next((t for p in self.priors for t in itertools.chain(p.parameters(), p.buffers())), None)
        return first.device if first is not None else torch.device("cpu")

    def to(self, device: torch.device | str) -> "PriorSet":
        """Move every prior to ``device`` (in place); returns the set."""
        for p in self.priors:
            p.to(device)
        return self

    def __iter__(self) -> Iterator[Prior]:
        return iter(self.priors)

    def __getitem__(self, name: str) -> Prior:
        for p in self.priors:
            if p.name == name:
                return p
        raise UnknownNameError(f"no prior for source {name!r}; this set has {self.names}")


#: files in a prior-set folder that are not priors: the set's metadata and its variational encoder
NOT_PRIORS = ("priorset.json", "encoder.json")


def bundled_prior_sets() -> list[str]:
    return sorted(p.name for p in BUNDLED_DIR.iterdir() if p.is_dir()) if BUNDLED_DIR.is_dir() else []


def prior_set_folder(name_or_dir: str | Path) -> Path:
    """The folder of the prior set ``name_or_dir``: a directory, or a bundled set's folder."""
    path = user_path(name_or_dir, "prior set")
    if path.is_dir():
        return path
    if str(name_or_dir) in bundled_prior_sets():
        return BUNDLED_DIR / str(name_or_dir)
    raise UnknownNameNotFoundError(f"no prior set {str(name_or_dir)!r}: not a directory of checkpoints and not a "
                                   f"bundled set (bundled: {bundled_prior_sets()})")


def prior_set_meta(path: Path) -> dict:
    """The prior-set folder ``path``'s ``priorset.json`` (no fields without one), its fields checked:
    ``sources`` (list), ``langevin`` (object), ``fit`` (string) and ``default`` (a method name, filled in
    with :data:`DEFAULT_METHOD` where it names none)."""
    meta_file = path / "priorset.json"
    try:
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    except json.JSONDecodeError as e:
        raise CheckpointError(f"corrupt {meta_file}: {e}") from None
    if isinstance(meta, dict):
        meta.setdefault("default", DEFAULT_METHOD)
    if not isinstance(meta, dict) or not isinstance(meta.get("sources", []), list) or not isinstance(
            meta.get("langevin") or {}, dict) or not isinstance(meta.get("fit", ""), str) or meta[
            "default"] not in PRIOR_METHODS:
        raise CheckpointError(f"{meta_file} must be a JSON object with a 'sources' list, a 'langevin' object and "
                              f"optionally a 'fit' string and a 'default' method among {list(PRIOR_METHODS)}")
    return meta


def load_priors(name_or_dir: str | Path = "toy") -> PriorSet:
    """Load a bundled prior set by name (``"toy"``) or every checkpoint in a directory.

    An optional ``priorset.json`` gives the order (``"sources"``), the benchmarked sampler
    settings (``"langevin"``), the set's spectral priors (``"fit"``) and its default method
    (``"default"``); without it, priors are ordered by name.
    """
    path = prior_set_folder(name_or_dir)
    meta = prior_set_meta(path)
    names = meta.get("sources") or sorted(p.stem for p in path.glob("*.json") if p.name not in NOT_PRIORS
                                          and p.stem != meta.get("fit"))  # a fit checkpoint beside the set
    if not names:
        raise CheckpointNotFoundError(f"no prior checkpoints (NAME.pt + NAME.json) in {path}")
    prior_set = PriorSet([load_prior(path / n) for n in names], sampler=meta.get("langevin"), fit=meta.get("fit"),
                         default_method=meta["default"])
    prior_set.path = path
    return prior_set
