"""The one scale-invariant SDR formula (Le Roux et al., 2019), on tensors and differentiable: the
metric of :func:`priorsep.evaluation.metrics.si_sdr` and the SI-SNR training loss of Meta-TasNet."""
from __future__ import annotations

import torch


def si_sdr_tensor(estimate: torch.Tensor, reference: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """SI-SDR in dB of ``estimate`` against ``reference``, same shape ``(..., T)``, -> ``(...)``.

    Both are made zero-mean; the reference is rescaled by ``alpha = <e, r> / |r|^2`` and
    ``SI-SDR = 10 log10(|alpha r|^2 / |e - alpha r|^2)``; ``eps`` regularises the divisions. No input
    checks (the metric checks its inputs)."""
    est = estimate - estimate.mean(-1, keepdim=True)
    ref = reference - reference.mean(-1, keepdim=True)
    alpha = (est * ref).sum(-1, keepdim=True) / ((ref**2).sum(-1, keepdim=True) + eps)
    target = alpha * ref
    noise = est - target
    ratio = (target**2).sum(-1) / ((noise**2).sum(-1) + eps)
    return 10.0 * torch.log10(ratio + eps)
