"""The score every bundled-pipeline regression test checks."""
from typing import Callable

import numpy as np

from priorsep.evaluation.metrics import si_sdr_improvement


def si_sdri_per_mix(separate: Callable[[np.ndarray], dict], data, names) -> np.ndarray:
    """SI-SDRi (dB) of ``separate(mix) -> {source: estimate}`` on every mix of ``data`` (``.mixes``
    ``(n, T)``, ``.sources`` ``(n, K, T)`` in the order of ``names``), shaped ``(n, K)``."""
    return np.array([si_sdr_improvement(np.stack([est[n] for n in names]), s, m)
                     for m, s in zip(data.mixes, data.sources) for est in [separate(m)]])
