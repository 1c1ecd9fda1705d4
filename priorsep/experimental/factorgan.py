"""FactorGAN training options measured as not helping (experimental).

* :class:`LevelFeatureDiscriminators`: discriminators that judge each source's spectrum divided by
  its RMS (``disc_level_free``) or also read each frame's log level (``disc_level``). On the toy
  data neither stopped the adversarial generator's collapse: a nearly silenced slot stayed
  indistinguishable enough from a sparse real source (``benchmarks/results/baselines/README.md``,
  runs g8 and L1/L2).
* :class:`R1Penalty`: the R1 gradient penalty (Mescheder et al. 2018) on the discriminators' real
  inputs. Every adversarial toy run with it collapsed as well; the bundled ``factorgan-toy`` recipe
  trains without it (``benchmarks/recipes/train_toy_factorgan.sh``).

Both plug into :func:`priorsep.training.factorgan.train_factorgan` (``discriminators=``, ``d_penalty=``);
``priorsep train-baseline --r1 G`` (hidden from ``--help``) passes ``R1Penalty(G)``.
"""
from __future__ import annotations

import torch

from ..baselines.factorgan import FactorGANDiscriminators, _ConvDisc
from ..errors import ConfigError


class _LevelDisc(_ConvDisc):
    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, C, rows + 1, frames)``, the last row a per-frame level -> ``(B,)`` logits; the level's
        mean over time goes straight to the head."""
        return super().forward(x[:, :, :-1], x[:, :, -1].mean(-1))


class LevelFeatureDiscriminators(FactorGANDiscriminators):
    """:class:`~priorsep.baselines.factorgan.FactorGANDiscriminators` with two feature options
    (config keys, default off):

    ``disc_level_free``: each source's bands are first divided by their RMS over bands and frames,
    so a discriminator judges the shape of a spectrum, not its level: a nearly silenced slot then
    shows what is left in it (the mix's shape) instead of looking like silence.

    ``disc_level``: one more row, ``(B, K, rows + 1, frames)``: each frame's level
    ``log(1e-3 + RMS / RMS of a unit sinusoid)`` over the linear bins (about log A for a sinusoid of
    amplitude A; -6.9 for silence). log1p compresses a quiet or silenced source towards zero, close
    to a real sparse one (a sine is one partial), so under spectral norm d_sine could not rate
    silence far below a sine (0.8 against 1.6); the log level sets them apart by ~7."""

    def check(self, config: dict) -> None:
        pass  # both options are this class's

    def conv_disc(self, c_in: int, **kw):
        if not self.config.get("disc_level"):
            return super().conv_disc(c_in, **kw)
        return super().conv_disc(c_in, extra_inputs=c_in, cls=_LevelDisc)  # the level row's mean per channel

    def features(self, mag: torch.Tensor) -> torch.Tensor:
        """Magnitudes ``(B, K, F + 1, frames)`` -> features ``(B, K, rows (+ 1), frames)``."""
        if not self.config.get("disc_level_free"):
            feats = super().features(mag)
        else:
            banded = self.banded(mag)
            feats = torch.log1p(banded / (banded.pow(2).mean((-2, -1), keepdim=True).sqrt() + 1e-8)
                                * float(self.config["spec_gain"]))
        if not self.config.get("disc_level"):
            return feats
        # one-sided hann-windowed energy of A sin: 3 n_fft^2 A^2 / 32 (Parseval), so this is ~A
        level = mag.pow(2).sum(-2).sqrt() / (self.config["n_fft"] * (3 / 32) ** 0.5)
        return torch.cat([feats, torch.log(1e-3 + level)[:, :, None]], dim=2)


def discriminators_for(config: dict) -> type[FactorGANDiscriminators]:
    """The discriminator class a FactorGAN config needs: :class:`LevelFeatureDiscriminators` when it
    sets ``disc_level`` or ``disc_level_free``, else the core's."""
    level = any(config.get(key) for key in ("disc_level", "disc_level_free"))
    return LevelFeatureDiscriminators if level else FactorGANDiscriminators


class R1Penalty:
    """``gamma / 2 * |grad_x d(x)|^2`` summed over the discriminators' real and generated positive
    inputs, averaged over items: ``d_penalty`` of :func:`~priorsep.training.factorgan.train_factorgan`.
    It keeps the discriminators smooth around the data."""

    def __init__(self, gamma: float):
        if not gamma > 0:
            raise ConfigError(f"the R1 penalty needs gamma > 0, got {gamma}")
        self.gamma = float(gamma)

    def __repr__(self) -> str:
        return f"R1Penalty(gamma={self.gamma})"

    def __call__(self, inputs: tuple[torch.Tensor, ...], logits: tuple[torch.Tensor, ...]) -> torch.Tensor:
        grads = torch.autograd.grad([o.sum() for o in logits], inputs, create_graph=True)
        return 0.5 * self.gamma * sum(gr.pow(2).flatten(1).sum(1).mean() for gr in grads)
