"""Saving and loading baseline separators; the bundled trained baselines."""
from __future__ import annotations

from pathlib import Path

from ..version import __version__
from ..checkpoint import atomic_json_save, atomic_torch_save, checkpoint_paths, read_checkpoint
from .base import BaselineSeparator
from ..errors import CheckpointError, UnknownNameNotFoundError, brief

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"


def baseline_kinds() -> dict[str, type[BaselineSeparator]]:
    """``kind -> class`` of every baseline model."""
    from .factorgan import FactorGAN
    from .waveunet import WaveUNet

    return {cls.kind: cls for cls in (WaveUNet, FactorGAN)}


def save_baseline(model: BaselineSeparator, stem: str | Path) -> None:
    """Save ``stem.pt`` (state_dict) and ``stem.json`` (config with kind and library version)."""
    weights, config = checkpoint_paths(stem)
    cfg = {**model.config, "kind": model.kind, "model_class": type(model).__name__, "priorsep_version": __version__}
    atomic_torch_save(model.state_dict(), weights)
    atomic_json_save(cfg, config)


def load_baseline(stem: str | Path) -> BaselineSeparator:
    """Load a baseline from ``stem.pt`` + ``stem.json`` (eval mode)."""
    config, state = read_checkpoint(stem, "baseline checkpoint")
    kinds = baseline_kinds()
    if config.get("kind") not in kinds:
        raise CheckpointError(f"unknown baseline kind {config.get('kind')!r} in {checkpoint_paths(stem)[1]}; "
                         f"expected one of {sorted(kinds)}")
    model = kinds[config["kind"]](config)
    try:
        model.load_state_dict(state)
    except Exception as e:
        raise CheckpointError(f"baseline weights {checkpoint_paths(stem)[0]} do not fit their config ({brief(e)}); "
                              "the .json and .pt are from different models") from None
    return model.eval()


def bundled_baselines() -> list[str]:
    """Names of the bundled trained baselines (``"waveunet-toy"``, ...)."""
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.pt")) if BUNDLED_DIR.is_dir() else []


def load(name_or_stem: str | Path) -> BaselineSeparator:
    """A bundled baseline by name (``"waveunet-toy"``) or a checkpoint stem (``runs/waveunet``)."""
    if str(name_or_stem) in bundled_baselines():
        return load_baseline(BUNDLED_DIR / str(name_or_stem))
    weights, config = checkpoint_paths(name_or_stem)
    if not weights.is_file() and not config.is_file():
        raise UnknownNameNotFoundError(f"no baseline {str(name_or_stem)!r}: not a checkpoint stem (STEM.pt + STEM.json) "
                                f"and not a bundled baseline (bundled: {bundled_baselines()})")
    return load_baseline(name_or_stem)
