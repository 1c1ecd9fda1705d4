"""Flow priors with U-Net coupling conditioners (experimental; kind ``"unet-flow"``).

Each coupling's conditioner is a :class:`~priorsep.experimental.unet.UNetConditioner` with
``unet_levels`` halvings instead of the flow's WaveNet, so every position sees the whole window.
No result was measured with it (added in commit 7ff1e7f; no bundled model or results file uses
it). Flow checkpoints written before the move (kind ``"flow"`` with ``unet_levels`` > 0) load as
this class through :data:`priorsep.registry.LEGACY`.
"""
from __future__ import annotations

from torch import nn

from ..errors import ConfigError
from ..priors.flow import FlowPrior
from ..registry import register
from .unet import UNetConditioner


@register("prior")
class UNetFlowPrior(FlowPrior):
    """A :class:`~priorsep.priors.flow.FlowPrior` whose couplings are conditioned by U-Nets of
    ``unet_levels`` (>= 1, required) halvings and ``hidden`` channels (``n_layers`` is unused).
    Input lengths are multiples of ``squeeze * 2**unet_levels``."""

    kind = "unet-flow"

    def _check_conditioner(self, config: dict) -> None:
        levels = config.get("unet_levels")
        if not isinstance(levels, int) or isinstance(levels, bool) or levels < 1:
            raise ConfigError(f"a U-Net flow needs unet_levels >= 1 (U-Net halvings), got {levels!r}; "
                              "unet_levels 0 is the ordinary flow (kind 'flow')")

    def conditioner(self, in_channels: int, out_channels: int) -> nn.Module:
        return UNetConditioner(in_channels, out_channels, self.config["hidden"], self.config["unet_levels"])

    @property
    def length_multiple(self) -> int:
        return int(self.config["squeeze"]) * 2 ** int(self.config["unet_levels"])
