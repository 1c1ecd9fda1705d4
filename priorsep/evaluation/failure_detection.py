"""How well a per-source confidence flags the separations that failed: ROC curve and its area.

A source estimate *failed* when its SI-SDRi is below a threshold (5 dB by default); the lower its
confidence, the more it should be suspected. The ROC curve plots, over every confidence threshold,
the share of failures flagged (true-positive rate) against the share of good estimates flagged
(false-positive rate); its area (AUROC) is the probability that a random failure has a lower
confidence than a random good estimate (ties count half): 0.5 is chance, 1 a perfect detector.
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError

FAILURE_BELOW_DB = 5.0  # an estimate with SI-SDRi below this failed


def _pairs(confidence, si_sdri, below: float) -> tuple[np.ndarray, np.ndarray]:
    conf, score = (np.asarray(x, dtype=float).ravel() for x in (confidence, si_sdri))
    if conf.shape != score.shape:
        raise ConfigError(f"{conf.size} confidences but {score.size} SI-SDRi values")
    keep = np.isfinite(conf) & np.isfinite(score)
    failed = score[keep] < below
    if failed.all() or not failed.any():
        raise ConfigError(f"failure detection needs failed (SI-SDRi < {below} dB) and good estimates; "
                          f"got {int(failed.sum())} failed of {failed.size}")
    return conf[keep], failed


def auroc(confidence, si_sdri, below: float = FAILURE_BELOW_DB) -> float:
    """Area under the ROC curve of flagging estimates with SI-SDRi < ``below`` by low ``confidence``."""
    conf, failed = _pairs(confidence, si_sdri, below)
    bad, good = conf[failed], conf[~failed]
    lower = (bad[:, None] < good[None, :]).mean()
    ties = (bad[:, None] == good[None, :]).mean()
    return float(lower + 0.5 * ties)


def roc_curve(confidence, si_sdri, below: float = FAILURE_BELOW_DB) -> tuple[np.ndarray, np.ndarray]:
    """``(false-positive rates, true-positive rates)`` as the confidence threshold rises from below
    every estimate (nothing flagged, (0, 0)) to above every estimate (everything flagged, (1, 1))."""
    conf, failed = _pairs(confidence, si_sdri, below)
    thresholds = np.concatenate([[-np.inf], np.unique(conf), [np.inf]])
    flagged = conf[None, :] <= thresholds[:, None]  # flag estimates at or below each threshold
    flagged[0] = False
    tpr = (flagged & failed).sum(1) / failed.sum()
    fpr = (flagged & ~failed).sum(1) / (~failed).sum()
    return fpr, tpr
