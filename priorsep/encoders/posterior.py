"""An encoder's posterior over mixtures of any length (overlap-added chunks of its training window)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..dsp.overlap_add import overlap_add
from ..errors import ConfigError
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


def encoder_means(encoder: Encoder, mixes: torch.Tensor, alignments: int = 1) -> torch.Tensor:
    """The posterior means ``(B, K, T)``: the starting point of ``langevin_separate(init="variational")``.
    ``alignments`` > 1: the mean of the means of the mix delayed by that many offsets spread over
    the encoder's ``alignment_span``, each delay undone (as :class:`EncoderDraws` spreads its
    draws); where the estimate moves with the frame grid, the average is the steadier start."""
    if not isinstance(alignments, int) or isinstance(alignments, bool) or alignments < 1:
        raise ConfigError(f"alignments must be an integer >= 1, got {alignments!r}")
    means = [encoder_posterior(encoder, F.pad(mixes.float(), (delay, 0)))[0][..., delay:]
             for delay in alignment_delays(encoder, alignments)]
    return torch.stack(means).mean(0)


def alignment_delays(encoder: Encoder, alignments: int) -> list[int]:
    """The delays (samples) of ``alignments`` alignments of a mix, spread evenly over the encoder's
    ``alignment_span`` (the first is the mix as it is)."""
    return [a * encoder.alignment_span // alignments for a in range(alignments)]


@dataclass(frozen=True)
class EncoderDraws:
    """How an encoder's posterior draws are made (:func:`encoder_draws`).

    ``alignments``: q(s | m) is the equal mixture of the encoder's posteriors of the mix delayed by
    ``alignments`` offsets spread evenly over the encoder's ``alignment_span`` (one STFT hop for a
    mask encoder), each delay undone: draw i comes from offset i mod alignments. A network's
    estimate moves with the frame grid where it is unsure, so the components disagree there; one
    alignment is the encoder's own q. ``scale_factor``: multiplies q's stds (the per-bin logit std
    of a mask encoder, else the signal-space scale); 0 makes each draw its alignment's mean.
    """

    alignments: int = 8
    scale_factor: float = 0.25

    def __post_init__(self):
        if not isinstance(self.alignments, int) or isinstance(self.alignments, bool) or self.alignments < 1:
            raise ConfigError(f"alignments must be an integer >= 1, got {self.alignments!r}")
        if not 0 <= self.scale_factor < float("inf"):
            raise ConfigError(f"scale_factor must be a finite number >= 0, got {self.scale_factor!r}")


def encoder_draws(encoder: Encoder, mixes: torch.Tensor, n: int, generator: torch.Generator | None = None,
                  chunk: int | None = None, batch: int = 4, settings: EncoderDraws | None = None) -> torch.Tensor:
    """``n`` draws ``(n, B, K, T)`` of q(s | m) (the encoder's ``draw``) for mixes ``(B, T)`` of any
    length, chunked as in :func:`encoder_posterior` (a cross-fade of two draws that meet the mix meets
    it), made as ``settings`` say (``None``: the encoder's own q, one alignment and its stds as they
    are); draws come alignment by alignment."""
    settings = settings or EncoderDraws(alignments=1, scale_factor=1.0)
    chunk = chunk or int(encoder.config.get("window", 2**16))
    k = len(encoder.config["weights"])
    b, t = mixes.shape
    aligned = min(settings.alignments, n)
    out = []
    for a, delay in enumerate(alignment_delays(encoder, aligned)):
        count = len(range(a, n, aligned))

        def run(x: torch.Tensor, count=count) -> torch.Tensor:  # (N, L) -> (N, count K, L)
            d = encoder.draw(x, count, generator, scale_factor=settings.scale_factor)
            return d.transpose(0, 1).reshape(x.shape[0], count * k, -1)

        with torch.no_grad():
            d = overlap_add(run, F.pad(mixes.float(), (delay, 0)), chunk, encoder.length_multiple, batch,
                            min_length=int(encoder.config.get("window", 1)))
        out.append(d[..., delay:].reshape(b, count, k, t).transpose(0, 1))
    return torch.cat(out)
