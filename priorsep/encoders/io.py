"""Encoder checkpoints (``stem.pt`` + ``stem.json``) and a prior set's own encoder."""
from __future__ import annotations

import inspect

from ..checkpoint import load_model, save_model
from ..errors import CheckpointError, ConfigError, SampleRateError, UnknownNameError, brief
from ..priors.io import PriorSet
from ..registry import kinds, register
from .networks import ENCODER_CLASSES, Encoder, MaskEncoder

ENCODER_STEM = "encoder"  # a prior set's own encoder: <prior set folder>/encoder.pt + .json
for _cls in ENCODER_CLASSES.values():  # keyed by class name: every encoder checkpoint's kind is "encoder"
    register("encoder")(_cls)

#: the constructor argument an encoder config key feeds, where they differ: the sources' mixing
#: weights are ``mix_weights`` in the JSON (as in baselines), ``weights`` in the constructors;
#: configs written before the rename hold ``weights`` and still read.
_ARGUMENT_KEYS = {"weights": ("mix_weights", "weights")}


def save_encoder(encoder: Encoder | MaskEncoder, stem, extra: dict | None = None) -> None:
    """``stem.pt`` (state_dict) + ``stem.json`` (architecture, plus ``extra``: sources, sample rate,
    training record), both atomic."""
    config = dict(encoder.config)
    if "weights" in config:
        config["mix_weights"] = config.pop("weights")
    save_model(encoder, stem, "encoder", extra, config=config)


#: settings added after checkpoints were written: a config without one means the old behaviour
_LATER_SETTINGS = {"scale": "source"}


def _build(cls, config: dict):
    args = {}
    for name in inspect.signature(cls).parameters:
        key = next((k for k in _ARGUMENT_KEYS.get(name, (name,)) if k in config), name)
        args[name] = config[key] if key in config or name not in _LATER_SETTINGS else _LATER_SETTINGS[name]
    return cls(**args)


def load_encoder(stem, priors: PriorSet | None = None) -> Encoder | MaskEncoder:
    """An encoder of the class the config's ``model_class`` names (:class:`Encoder`,
    :class:`MaskEncoder`, or another class registered as an ``"encoder"``) from ``stem.pt`` +
    ``stem.json``; with ``priors``, checks that it was trained for these sources and this sample rate."""

    def check(config: dict) -> None:
        if priors is None:
            return
        if config.get("sources") and list(config["sources"]) != list(priors.names):
            raise ConfigError(f"encoder {stem} separates {config['sources']}, but the priors are {priors.names}")
        if config.get("sample_rate") and int(config["sample_rate"]) != priors.sample_rate:
            raise SampleRateError(f"encoder {stem} is for {config['sample_rate']} Hz, the priors for "
                                  f"{priors.sample_rate} Hz")

    def build(cls, config: dict):
        try:
            enc = _build(cls, config)
        except (KeyError, TypeError) as e:
            raise CheckpointError(f"encoder config {stem}.json lacks or mangles a setting ({brief(e)})") from None
        renamed = {k for keys in _ARGUMENT_KEYS.values() for k in keys}
        enc.config.update({k: v for k, v in config.items() if k not in enc.config and k not in renamed})
        return enc

    return load_model(stem, "encoder", check=check, build=build)


def own_encoder(priors: PriorSet):
    """The stem of the prior set's own encoder (``<set folder>/encoder``), or ``None`` if it has none."""
    stem = priors.path / ENCODER_STEM if getattr(priors, "path", None) is not None else None
    return stem if stem is not None and stem.with_suffix(".pt").is_file() else None


def resolve_encoder(priors: PriorSet, encoder=None) -> Encoder | MaskEncoder:
    """``encoder`` as a module (a registered ``"encoder"`` class): itself, loaded from a stem, or
    (``None``) the prior set's own."""
    if encoder is None:
        stem = own_encoder(priors)
        if stem is None:
            raise UnknownNameError(f"the prior set {getattr(priors, 'path', None) or priors.names} has no encoder; "
                                   "train one with priorsep train-posterior, or pass encoder=STEM")
        encoder = stem
    return encoder if isinstance(encoder, tuple(kinds("encoder").values())) else load_encoder(encoder, priors)
