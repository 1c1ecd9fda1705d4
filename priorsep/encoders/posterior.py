"""An encoder's posterior over mixtures of any length (overlap-added chunks of its training window)."""
from __future__ import annotations

import torch

from ..dsp.overlap_add import overlap_add
from .networks import Encoder


def encoder_posterior(encoder: Encoder, mixes: torch.Tensor, chunk: int | None = None, batch: int = 4
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Means and scales ``(B, K, T)`` for mixes ``(B, T)`` of any length: overlap-added chunks of
    about ``chunk`` samples (a multiple of the encoder's length multiple), ``batch`` at a time.
    ``chunk=None``: the encoder's training window (its config's ``window``, the crop length it was
    trained on), else 2^16; an encoder sees at test time the context it was trained with. A mix
    shorter than that window is padded to it (``overlap_add``'s ``min_length``)."""
    chunk = chunk or int(encoder.config.get("window", 2**16))

    k = len(encoder.config["weights"])

    def run(x: torch.Tensor) -> torch.Tensor:
        loc, scale = encoder(x)
        return torch.cat([loc, scale], 1)

    with torch.no_grad():  # a mix shorter than the training window gets the window, padded
        out = overlap_add(run, mixes.float(), chunk, encoder.length_multiple, batch,
                          min_length=int(encoder.config.get("window", 1)))
    return out[:, :k], out[:, k:]


def encoder_means(encoder: Encoder, mixes: torch.Tensor) -> torch.Tensor:
    """The posterior means ``(B, K, T)``: the starting point of ``langevin_separate(init="variational")``."""
    return encoder_posterior(encoder, mixes)[0]


def encoder_draws(encoder: Encoder, mixes: torch.Tensor, n: int, generator: torch.Generator | None = None,
                  chunk: int | None = None, batch: int = 4) -> torch.Tensor:
    """``n`` draws ``(n, B, K, T)`` of q(s | m) (the encoder's ``draw``) for mixes ``(B, T)`` of any
    length, chunked as in :func:`encoder_posterior` (a cross-fade of two draws that meet the mix meets it)."""
    chunk = chunk or int(encoder.config.get("window", 2**16))
    k = len(encoder.config["weights"])

    def run(x: torch.Tensor) -> torch.Tensor:  # (N, L) -> (N, n K, L)
        return encoder.draw(x, n, generator).transpose(0, 1).reshape(x.shape[0], n * k, -1)

    with torch.no_grad():
        out = overlap_add(run, mixes.float(), chunk, encoder.length_multiple, batch,
                          min_length=int(encoder.config.get("window", 1)))
    b, t = mixes.shape
    return out.reshape(b, n, k, t).transpose(0, 1)
