"""Flow priors in a fixed DCT basis (experimental; kind ``"dct-flow"``).

After the squeeze, every frame of ``squeeze`` samples goes through an orthonormal DCT-II, the bins
are split even/odd, and each block is ActNorm (one scale per bin) and a coupling whose halves are
swapped afterwards: a spectral flow whose conditioner sees across frequency and frames. Measured on
the toy sources only (``benchmarks/probes/train_toy_spectral_priors.sh``,
``benchmarks/results/spectral/``): never better than the learned basis, and no bundled model uses
it. Flow checkpoints written before the move (kind ``"flow"`` with ``basis="dct"``) load as this
class through :data:`priorsep.registry.LEGACY`.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from nflows.transforms import Permutation, Transform

from ..errors import ConfigError
from ..priors.flow import ActNorm1d, FlowPrior
from ..registry import register


class BlockDCT(Transform):
    """Orthonormal DCT-II across the channels of every position (volume-preserving, log-det 0).

    After ``Squeeze1d(n)`` the channels of a position are ``n`` consecutive samples, so this maps
    frames of ``n`` samples to their spectra: periodic sources become a few strong lines, which the
    couplings can then treat like an adaptive Wiener filter.
    """

    def __init__(self, channels: int):
        super().__init__()
        k = torch.arange(channels, dtype=torch.float64)[:, None]
        i = torch.arange(channels, dtype=torch.float64)[None]
        m = torch.cos(math.pi * (i + 0.5) * k / channels) * math.sqrt(2.0 / channels)
        m[0] /= math.sqrt(2.0)
        self._matrix = m  # float64, not a buffer: cast per call so a float64 model is orthonormal to 1e-16

    def forward(self, x, context=None):
        m = self._matrix.to(x.device, x.dtype)
        return torch.einsum("kc,bct->bkt", m, x), x.new_zeros(x.shape[0])

    def inverse(self, z, context=None):
        m = self._matrix.to(z.device, z.dtype)
        return torch.einsum("kc,bkt->bct", m, z), z.new_zeros(z.shape[0])


@register("prior")
class DCTFlowPrior(FlowPrior):
    """A :class:`~priorsep.priors.flow.FlowPrior` over the DCT spectra of its squeezed frames
    (config ``basis`` is ``"dct"``; the other keys as the flow's)."""

    kind = "dct-flow"
    defaults = {**FlowPrior.defaults, "basis": "dct"}

    def _check_basis(self, config: dict) -> None:
        if config["basis"] != "dct":
            raise ConfigError(f"a DCT flow has basis 'dct', got {config['basis']!r}; "
                              "the learned basis is the ordinary flow (kind 'flow')")

    def blocks(self, channels: int, n_blocks: int, coupling: Callable[[], Transform]) -> list[Transform]:
        """The DCT, the even/odd split, then ``n_blocks`` of ActNorm, a coupling and a half swap."""
        c = channels
        swap = torch.roll(torch.arange(c), c // 2)
        return [BlockDCT(c), Permutation(torch.cat([torch.arange(0, c, 2), torch.arange(1, c, 2)])),
                *(t for _ in range(n_blocks) for t in (ActNorm1d(c), coupling(), Permutation(swap.clone())))]
