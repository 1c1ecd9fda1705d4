"""The prior interface every family implements."""
from __future__ import annotations

import torch
from torch import nn
from ..errors import ConfigError


def as_sigma(sigma, batch: int, like: torch.Tensor) -> torch.Tensor:
    """Broadcast a float or ``(batch,)`` noise level to a ``(batch,)`` tensor."""
    s = torch.as_tensor(sigma, dtype=like.dtype, device=like.device)
    if s.ndim == 0:
        s = s.expand(batch)
    if s.shape != (batch,):
        raise ConfigError(f"sigma must be a float or shaped ({batch},); got shape {tuple(s.shape)}")
    if not torch.all(s > 0):
        raise ConfigError("sigma must be positive")
    return s


class Prior(nn.Module):
    """A noise-conditioned density p(x | sigma) of one source: the density of x + sigma * eps.

    Subclasses implement :meth:`log_prob`; :meth:`score` defaults to autograd through it.
    ``config`` holds everything needed to rebuild the model (saved as JSON next to the weights).
    """

    #: registry key saved in the checkpoint config, e.g. "flow"
    kind: str = ""

    def __init__(self, config: dict):
        super().__init__()
        self.config = dict(config)

    @property
    def name(self) -> str:
        return self.config.get("source", "")

    @property
    def sample_rate(self) -> int:
        return int(self.config["sample_rate"])

    @property
    def length_multiple(self) -> int:
        """Input lengths must be a multiple of this."""
        return 1

    def log_prob(self, x: torch.Tensor, sigma) -> torch.Tensor:
        """Total log density in nats of ``x (batch, time)`` at noise level ``sigma``; ``(batch,)``."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, sigma) -> torch.Tensor:
        """:meth:`log_prob`, so that wrappers such as DistributedDataParallel can call the prior."""
        return self.log_prob(x, sigma)

    def score(self, x: torch.Tensor, sigma) -> tuple[torch.Tensor, torch.Tensor]:
        """``(grad_x log p(x | sigma), log p(x | sigma))``: ``(batch, time)`` and ``(batch,)``."""
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            lp = self.log_prob(x, sigma)
            (g,) = torch.autograd.grad(lp.sum(), x)
        return g, lp.detach()

    def sample(self, n: int, length: int, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``(n, length)`` samples of x + sigma * eps, where the family can."""
        raise NotImplementedError(f"{type(self).__name__} cannot sample")
