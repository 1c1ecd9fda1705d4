"""Saving and loading baseline separators; the bundled trained baselines."""
from __future__ import annotations

from pathlib import Path

from ..checkpoint import checkpoint_paths, load_model, save_model
from ..registry import kinds, register
from .base import BaselineSeparator
from ..errors import UnknownNameNotFoundError

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"


def baseline_kinds() -> dict[str, type[BaselineSeparator]]:
    """``kind -> class`` of every baseline model registered (:mod:`priorsep.registry`), the built-in
    Wave-U-Net, FactorGAN, Demucs, Meta-TasNet, the multitask separator, the NMF dictionaries and the
    spectral VAE priors included (imported here, on first use; Demucs needs ``priorsep[peers]`` only to be built)."""
    from .factorgan import FactorGAN
    from .metatasnet import MetaTasNet
    from .multitask import SharedEncoderSeparator
    from .nmf import NMFSeparator
    from .peer_demucs import DemucsSeparator
    from .spectral_vae import SpectralVAESeparator
    from .waveunet import WaveUNet

    for cls in (WaveUNet, FactorGAN, DemucsSeparator, MetaTasNet, SharedEncoderSeparator, NMFSeparator,
                SpectralVAESeparator):
        register("baseline")(cls)
    return kinds("baseline")


def save_baseline(model: BaselineSeparator, stem: str | Path) -> None:
    """Save ``stem.pt`` (state_dict) and ``stem.json`` (config with kind, module and library version;
    the sources' mixing weights are ``mix_weights``)."""
    save_model(model, stem, "baseline")


def load_baseline(stem: str | Path) -> BaselineSeparator:
    """Load a baseline from ``stem.pt`` + ``stem.json`` (eval mode)."""
    baseline_kinds()  # the built-in kinds
    return load_model(stem, "baseline")


def bundled_baselines() -> list[str]:
    """Names of the bundled trained baselines (``"waveunet-toy"``, ...)."""
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.pt")) if BUNDLED_DIR.is_dir() else []


def load(name_or_stem: str | Path) -> BaselineSeparator:
    """A bundled baseline by name (``"waveunet-toy"``) or a checkpoint stem (``runs/waveunet``)."""
    if str(name_or_stem) in bundled_baselines():
        return load_baseline(BUNDLED_DIR / str(name_or_stem))
    weights, config = checkpoint_paths(name_or_stem)
    if not weights.is_file() and not config.is_file():
        raise UnknownNameNotFoundError(f"no baseline {str(name_or_stem)!r}: "
                                "not a checkpoint stem (STEM.pt + STEM.json) "
                                f"and not a bundled baseline (bundled: {bundled_baselines()})")
    return load_baseline(name_or_stem)
