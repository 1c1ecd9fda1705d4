"""One open registry of the model classes that checkpoints name, per family: ``"prior"``,
``"baseline"``, ``"encoder"``.

A class joins its family with the decorator ``@register("prior")`` (or ``register("encoder")(cls)``
for a class defined elsewhere). Its key is what a checkpoint config records to name it: the class's
``kind`` for priors and baselines (``"flow"``, ``"waveunet"``), the class's name for encoders
(every encoder checkpoint has kind ``"encoder"`` and names its class in ``"model_class"``).

Checkpoints also record the module that defines their class (``"module"``, written by
:func:`priorsep.checkpoint.save_model`). :func:`resolve` imports that module when the key is not
registered yet and looks again, so a family defined outside the core (``priorsep.experimental``, a
user's own package) loads without the core ever importing it. Only modules under ``priorsep.`` and
user modules that are importable already (on ``sys.path``, not the standard library) are imported.
Checkpoints written before ``"module"`` existed are resolved through :data:`LEGACY`.
"""
from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

from .errors import CheckpointError, ConfigError, UnknownNameError, brief


@dataclass(frozen=True)
class Family:
    field: str  # the checkpoint config key that names the class
    noun: str  # what error messages call that key
    default: str | None = None  # the key assumed when a config lacks ``field``


FAMILIES: dict[str, Family] = {
    "prior": Family("kind", "kind"),
    "baseline": Family("kind", "kind"),
    # encoder configs written before "model_class" existed are the waveform Encoder's
    "encoder": Family("model_class", "class", "Encoder"),
}


@dataclass(frozen=True)
class Legacy:
    """A kind that checkpoints written before ``"module"`` existed record, and the module that
    defines it now. ``when``: the rule applies only to configs for which it holds (an option that
    moved to a subclass); ``now``: the kind the class is registered under, if it changed."""

    family: str
    kind: str
    module: str
    now: str | None = None
    when: Callable[[dict], bool] | None = None

    def matches(self, family: str, key, config: dict) -> bool:
        """Whether a config of ``family`` recording ``key`` needs this rule: the old kind (where
        ``when`` holds), or the kind it is registered under now (which its module defines)."""
        if self.family != family:
            return False
        try:
            old = self.kind == key and (self.when is None or bool(self.when(config)))
        except (TypeError, ValueError):  # a mangled setting: not this rule's business
            old = False
        return old or (self.now is not None and self.now == key)


#: Where the classes of checkpoints without ``"module"`` live when the core no longer defines them:
#:
#: ==========  =============================  ======================================  ==============
#: family      recorded kind                  module                                  kind now
#: ==========  =============================  ======================================  ==============
#: prior       ``denoiser``                   ``priorsep.experimental.denoiser``      ``denoiser``
#: prior       ``flow`` with unet_levels > 0  ``priorsep.experimental.unet_flow``     ``unet-flow``
#: prior       ``flow`` with basis ``"dct"``  ``priorsep.experimental.dct_flow``      ``dct-flow``
#: ==========  =============================  ======================================  ==============
LEGACY: tuple[Legacy, ...] = (
    Legacy("prior", "denoiser", "priorsep.experimental.denoiser"),
    Legacy("prior", "flow", "priorsep.experimental.unet_flow", now="unet-flow",
           when=lambda config: int(config.get("unet_levels") or 0) > 0),
    Legacy("prior", "flow", "priorsep.experimental.dct_flow", now="dct-flow",
           when=lambda config: config.get("basis") == "dct"),
)

_REGISTRY: dict[str, dict[str, type]] = {family: {} for family in FAMILIES}
_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\Z")


def _family(family: str) -> Family:
    if family not in FAMILIES:
        raise UnknownNameError(f"unknown model family {family!r}; expected one of {sorted(FAMILIES)}")
    return FAMILIES[family]


def key_of(family: str, cls: type) -> str:
    """The key ``cls`` is registered under: its ``kind``, or (encoders) its class name."""
    return cls.__name__ if _family(family).field == "model_class" else getattr(cls, "kind", "")


def register(family: str):
    """Class decorator: ``cls`` joins ``family`` under :func:`key_of`. Registering the same class
    again is a no-op; another class under a taken key is an error."""
    _family(family)

    def add(cls: type) -> type:
        key = key_of(family, cls)
        if not key:
            raise ConfigError(f"{cls.__qualname__} has no kind to register it as a {family} under")
        old = _REGISTRY[family].get(key)
        if old is not None and (old.__module__, old.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ConfigError(f"{family} {_family(family).noun} {key!r} is already registered to "
                              f"{old.__module__}.{old.__qualname__}; give {cls.__qualname__} its own kind")
        _REGISTRY[family][key] = cls
        return cls

    return add


def kinds(family: str) -> dict[str, type]:
    """``key -> class`` of the classes registered in ``family`` so far (a copy)."""
    _family(family)
    return dict(_REGISTRY[family])


def known(family: str) -> list[str]:
    """The registered keys plus those :data:`LEGACY` loads on demand: what error messages offer."""
    return sorted(set(_REGISTRY[family]) | {r.now or r.kind for r in LEGACY if r.family == family})


def checkpoint_keys(family: str, model) -> dict:
    """What a checkpoint config records to find ``model``'s class again: ``kind`` (its key, or for
    families keyed by class name the family's name), ``model_class`` and ``module``."""
    cls = type(model)
    kind = family if _family(family).field == "model_class" else key_of(family, cls)
    return {"kind": kind, "model_class": cls.__name__, "module": cls.__module__}


def _import(module) -> str | None:
    """Import ``module`` if it may be: ``None``, or why not."""
    if not isinstance(module, str) or not _MODULE_NAME.match(module):
        return f"{module!r} is not a module name"
    if module in sys.modules:
        return None
    top = module.partition(".")[0]
    if top != "priorsep":
        if top in sys.stdlib_module_names:
            return f"{module!r} is a standard-library module"
        if importlib.util.find_spec(top) is None:
            return f"{module!r} is not importable here (install it or put it on sys.path)"
    try:
        importlib.import_module(module)
    except Exception as e:  # a missing submodule, or the module's own error
        return f"importing {module!r} failed ({brief(e)})"
    return None


def resolve(family: str, config: dict, where: object = "checkpoint config") -> type:
    """The class ``config`` (a checkpoint's, or one to build a model from) names in ``family``.

    A config without ``"module"`` first goes through :data:`LEGACY`. A key not registered yet is
    looked up again after importing the module the config recorded. ``where`` names the config in
    the error (a :class:`~priorsep.errors.CheckpointError`)."""
    fam = _family(family)
    if fam.field != "kind" and config.get("kind", family) != family:
        article = "an" if family[0] in "aeiou" else "a"
        raise CheckpointError(f"{where} is a {config.get('kind')!r} checkpoint, not {article} {family} checkpoint")
    key = config.get(fam.field, fam.default)
    module = config.get("module")
    why = None
    if not isinstance(key, str):
        pass  # a mangled config: nothing to look up
    elif module is None:
        rule = next((r for r in LEGACY if r.matches(family, key, config)), None)
        if rule is not None:
            why = _import(rule.module)
            key = rule.now or key
    elif key not in _REGISTRY[family]:
        why = _import(module)
    if isinstance(key, str) and key in _REGISTRY[family]:
        return _REGISTRY[family][key]
    recorded = f" (its module: {why})" if why else (f" (not defined in its module {module!r})" if module else "")
    raise CheckpointError(f"unknown {family} {fam.noun} {key!r} in {where}{recorded}; expected one of {known(family)}")


class KindTable(Mapping):
    """``key -> class`` of one family, resolving keys through :func:`resolve` (so a legacy or
    recorded module is imported on first use): ``PRIOR_KINDS["denoiser"]``."""

    def __init__(self, family: str):
        _family(family)
        self.family = family

    def __getitem__(self, key: str) -> type:
        try:
            return resolve(self.family, {FAMILIES[self.family].field: key})
        except CheckpointError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(known(self.family))

    def __len__(self) -> int:
        return len(known(self.family))

    def __repr__(self) -> str:
        return f"KindTable({self.family!r}: {known(self.family)})"
