"""A noise-conditioned non-causal 1-D U-Net: the experimental U-Net flow's coupling conditioner
(:mod:`priorsep.experimental.unet_flow`) and the denoiser prior's ``network="unet"``."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class UNetConditioner(nn.Module):
    """Non-causal 1-D U-Net over positions: ``levels`` halvings, so every output position sees the
    whole input window (periodic sources are recognised from many periods, not from a few
    neighbouring positions). Each level: two (conv3, GroupNorm-free, GELU) layers with log sigma as
    a per-level bias; average-pool down, linear-interpolation up, concatenated skips.
    Input length must be a multiple of ``2**levels``."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int, levels: int):
        super().__init__()
        self.levels = levels
        self.start = nn.Conv1d(in_channels, hidden, 3, padding=1)
        self.down = nn.ModuleList(nn.Conv1d(hidden, hidden, 3, padding=1) for _ in range(levels))
        self.mid = nn.Conv1d(hidden, hidden, 3, padding=1)
        self.up = nn.ModuleList(nn.Conv1d(2 * hidden, hidden, 3, padding=1) for _ in range(levels))
        self.cond = nn.Linear(1, hidden * (2 * levels + 2))
        self.end = nn.Conv1d(hidden, out_channels, 1)
        nn.init.zeros_(self.end.weight)  # identity coupling at initialisation
        nn.init.zeros_(self.end.bias)

    def forward(self, x, log_sigma):
        bias = self.cond(log_sigma).unsqueeze(-1).chunk(2 * self.levels + 2, dim=1)
        h = F.gelu(self.start(x) + bias[0])
        skips = []
        for i, conv in enumerate(self.down):
            skips.append(h)
            h = F.gelu(conv(F.avg_pool1d(h, 2)) + bias[1 + i])
        h = F.gelu(self.mid(h) + bias[1 + self.levels]) + h
        for i, conv in enumerate(self.up):
            skip = skips.pop()
            h = F.interpolate(h, size=skip.shape[-1], mode="linear", align_corners=False)
            h = F.gelu(conv(torch.cat([h, skip], 1)) + bias[2 + self.levels + i])
        return self.end(h)
