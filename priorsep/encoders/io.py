"""Encoder checkpoints (``stem.pt`` + ``stem.json``) and a prior set's own encoder."""
from __future__ import annotations

import inspect

from ..checkpoint import atomic_json_save, atomic_torch_save, checkpoint_paths, read_checkpoint
from ..errors import CheckpointError, ConfigError, SampleRateError, UnknownNameError, brief
from ..priors.io import PriorSet
from ..version import __version__
from .networks import ENCODER_CLASSES, Encoder, MaskEncoder

ENCODER_STEM = "encoder"  # a prior set's own encoder: <prior set folder>/encoder.pt + .json


def save_encoder(encoder: Encoder | MaskEncoder, stem, extra: dict | None = None) -> None:
    """``stem.pt`` (state_dict) + ``stem.json`` (architecture, plus ``extra``: sources, sample rate,
    training record), both atomic."""
    weights, config = checkpoint_paths(stem)
    atomic_torch_save(encoder.state_dict(), weights)
    atomic_json_save({**encoder.config, **(extra or {}), "kind": "encoder", "model_class": type(encoder).__name__,
                      "priorsep_version": __version__}, config)


def load_encoder(stem, priors: PriorSet | None = None) -> Encoder | MaskEncoder:
    """An :class:`Encoder` or :class:`MaskEncoder` (the config's ``model_class``) from ``stem.pt`` +
    ``stem.json``; with ``priors``, checks that it was trained for these sources and this sample rate."""
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


def own_encoder(priors: PriorSet):
    """The stem of the prior set's own encoder (``<set folder>/encoder``), or ``None`` if it has none."""
    stem = priors.path / ENCODER_STEM if getattr(priors, "path", None) is not None else None
    return stem if stem is not None and stem.with_suffix(".pt").is_file() else None


def resolve_encoder(priors: PriorSet, encoder=None) -> Encoder | MaskEncoder:
    """``encoder`` as a module (:data:`ENCODER_CLASSES`): itself, loaded from a stem, or (``None``)
    the prior set's own."""
    if encoder is None:
        stem = own_encoder(priors)
        if stem is None:
            raise UnknownNameError(f"the prior set {getattr(priors, 'path', None) or priors.names} has no encoder; "
                                   "train one with priorsep train-posterior, or pass encoder=STEM")
        encoder = stem
    return encoder if isinstance(encoder, tuple(ENCODER_CLASSES.values())) else load_encoder(encoder, priors)
