"""Isotropic Gaussian prior: x ~ N(mean, variance I), so p(x | sigma) = N(mean, (variance + sigma^2) I).

Useful as a baseline and as the one prior whose separation posterior is known in closed form
(the tests pin the Langevin sign conventions with it).
"""
from __future__ import annotations

import math

import torch

from ..registry import register
from .base import Prior, as_sigma
from ..errors import ConfigError


@register("prior")
class GaussianPrior(Prior):
    """Config keys: ``mean`` (float), ``variance`` (float > 0) plus the common ones."""

    kind = "gaussian"

    def __init__(self, config: dict):
        super().__init__({"mean": 0.0, "variance": 1.0, **config})
        if float(self.config["variance"]) <= 0:
            raise ConfigError(f"variance must be positive, got {self.config['variance']}")
        # a parameter-free module still needs a dtype/device anchor for as_sigma etc.
        self.register_buffer("mean", torch.tensor(float(self.config["mean"])))
        self.register_buffer("variance", torch.tensor(float(self.config["variance"])))

    def log_prob(self, x: torch.Tensor, sigma) -> torch.Tensor:
        var = self.variance + as_sigma(sigma, x.shape[0], x)[:, None] ** 2
        return (-0.5 * ((x - self.mean) ** 2 / var + torch.log(2 * math.pi * var))).sum(-1)

    def score(self, x: torch.Tensor, sigma) -> tuple[torch.Tensor, torch.Tensor]:
        var = self.variance + as_sigma(sigma, x.shape[0], x)[:, None] ** 2
        return -(x - self.mean) / var, self.log_prob(x, sigma)

    @torch.no_grad()
    def sample(self, n: int, length: int, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
        std = math.sqrt(float(self.variance) + sigma**2)
        eps = torch.randn(n, length, generator=generator, dtype=self.mean.dtype, device=self.mean.device)
        return self.mean + std * eps
