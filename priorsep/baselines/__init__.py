"""Baseline separators the prior-based methods are measured against: supervised Wave-U-Net, Demucs
(from its package, ``priorsep[peers]``), Meta-TasNet, the shared-encoder multitask separator
(interleaved or simultaneous training) and FactorGAN. ``priorsep.baselines.load("waveunet-toy").separate(mix)``."""
from .io import bundled_baselines, load, load_baseline, save_baseline

__all__ = ["bundled_baselines", "load", "load_baseline", "save_baseline"]
