"""Separation metrics: SI-SDR (improvement) and museval's BSSEval v4 on fixed windows.

All signals are mono, time on the last axis, in the same (arbitrary) amplitude unit; every
metric is in dB. Inputs may be numpy arrays or torch tensors (converted to float64 numpy).
"""
from __future__ import annotations

import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ..dsp.si_sdr import si_sdr_tensor
from ..errors import ConfigError, InvalidAudioError

BSS_METRICS = ("SDR", "SIR", "SAR", "ISR")


def _as_numpy(x, name: str = "signal", finite: bool = True) -> np.ndarray:
    """float64 numpy copy of a numpy array, torch tensor or nested sequence of real numbers
    (``finite``: refuse NaN and inf)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        x = (x.double() if x.is_floating_point() else x).numpy()
    try:
        arr = np.asarray(x)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidAudioError(f"{name} must be an array of real numbers: {e}") from None
    if finite and not np.all(np.isfinite(arr)):
        raise InvalidAudioError(f"{name} contains NaN or inf values")
    return arr


def si_sdr(estimate, reference, eps: float = 1e-8) -> np.ndarray:
    """Scale-invariant SDR (Le Roux et al., 2019) in dB over the last axis.

    Both signals are made zero-mean; the reference is rescaled by the least-squares factor
    ``alpha = <e, r> / |r|^2`` and ``SI-SDR = 10 log10(|alpha r|^2 / |e - alpha r|^2)``.

    estimate, reference: ``(..., T)`` arrays or tensors that broadcast against each other
    (e.g. ``(B, K, T)`` estimates against ``(K, T)`` references).
    eps: regulariser of the divisions; it caps an exact copy at about
    ``10 log10(|r|^2 / eps)`` dB and makes an all-zero estimate score ``10 log10(eps)`` dB.
    Returns the broadcast leading shape ``(...)`` as a float64 array (0-d for 1-D inputs).
    """
    try:
        est, ref = np.broadcast_arrays(_as_numpy(estimate, "estimate"), _as_numpy(reference, "reference"))
    except ValueError as e:
        raise InvalidAudioError(f"estimate and reference shapes do not broadcast: {e}") from None
    if est.ndim == 0 or est.shape[-1] == 0:
        raise InvalidAudioError(f"si_sdr needs signals with a non-empty time axis, got shape {est.shape}")
    value = si_sdr_tensor(torch.from_numpy(np.ascontiguousarray(est)), torch.from_numpy(np.ascontiguousarray(ref)), eps)
    return np.asarray(value.numpy())


def si_sdr_improvement(estimate, reference, mix, eps: float = 1e-8) -> np.ndarray:
    """SI-SDRi in dB: ``si_sdr(estimate, reference) - si_sdr(mix, reference)``.

    estimate, reference: ``(..., K, T)``; mix: ``(..., T)`` or anything broadcasting against
    ``reference`` (a ``(..., T)`` mix is broadcast over the source axis automatically when
    ``reference`` has one more dimension). Returns ``(..., K)``.
    """
    mix = _as_numpy(mix)
    ref = _as_numpy(reference)
    if mix.ndim == ref.ndim - 1:
        mix = mix[..., None, :]
    return si_sdr(estimate, ref, eps) - si_sdr(mix, ref, eps)


def windowed_si_sdri(estimate, reference, mix, window: int, hop: int, min_db: float = -50.0,
                     min_active: int = 2) -> np.ndarray:
    """SI-SDRi in dB of ``estimate (K, T)`` on windows of ``window`` samples every ``hop`` (the
    protocol of the Slakh2100 separation results: 4-s windows, 2-s hop), ``(n_windows, K)``.

    A source is scored in a window only where its reference is active (RMS above ``min_db`` dB
    re full scale: SI-SDR of silence is undefined), and a window only where at least
    ``min_active`` sources are; the rest is NaN. A signal shorter than one window is one window.
    """
    est, ref, m = _as_numpy(estimate), _as_numpy(reference), _as_numpy(mix)
    if est.shape != ref.shape or est.ndim != 2 or m.shape != ref.shape[-1:]:
        raise ValueError(f"need estimate and reference (K, T) and mix (T,), got {est.shape}, {ref.shape}, {m.shape}")
    if not 0 < hop <= window:
        raise ValueError(f"need 0 < hop <= window, got hop {hop}, window {window}")
    t = ref.shape[-1]
    starts = range(0, max(t - window, 0) + 1, hop)
    out = np.full((len(starts), ref.shape[0]), np.nan)
    for i, s0 in enumerate(starts):
        r, e, mm = ref[:, s0:s0 + window], est[:, s0:s0 + window], m[s0:s0 + window]
        active = 10 * np.log10(np.mean(r.astype(np.float64) ** 2, -1) + 1e-20) > min_db
        if active.sum() >= min_active:
            out[i, active] = si_sdr_improvement(e[active], r[active], mm)
    return out


def bss_eval(references, estimates, sample_rate: int, window_seconds: float = 1.0) -> dict[str, Any]:
    """museval BSSEval v4 (``bss_eval_images``, global distortion filters) on fixed windows.

    references, estimates: ``(K, T)`` mono sources (a ``(T,)`` single source is accepted),
    same amplitude scale. Windows are ``window = hop = round(sample_rate * window_seconds)``
    samples; a trailing partial window is dropped (museval's framing), and a signal shorter
    than one window is scored as a single window.

    museval marks a window NaN for every source when any reference *or estimate* is all-zero
    in it; such windows are skipped before the median. ``+inf`` (an exactly zero error term,
    e.g. an estimate equal to its reference) is kept as a valid score.
    A reference or estimate that is all-zero over the whole signal cannot be evaluated
    (ValueError): museval fits its distortion filters on the whole signal.

    Caveat: the filters are a least-squares fit on 512 lags of *all* references. For strictly
    periodic signals (the toy oscillators) that system is nearly singular and SIR/SAR can come
    out meaningless (e.g. SIR -40 dB with SDR +25 dB) while SDR and ISR stay sensible; prefer
    SI-SDR on toy data.

    Returns ``{"SDR", "SIR", "SAR", "ISR": (K,) float64 medians over kept windows in dB
    (NaN if no window was kept), "skipped_windows": int, "windows": int,
    "framewise": {metric: (K, n_windows) raw museval values}}``.
    """
    ref = _as_numpy(references)
    est = _as_numpy(estimates)
    if ref.ndim == 1:
        ref = ref[None]
    if est.ndim == 1:
        est = est[None]
    if ref.ndim != 2 or ref.shape != est.shape:
        raise InvalidAudioError(
            f"bss_eval needs references and estimates shaped (K, T) alike; got {ref.shape} and {est.shape}"
        )
    if ref.shape[1] == 0:
        raise InvalidAudioError("bss_eval needs a non-empty time axis")
    for what, x in (("reference", ref), ("estimated", est)):
        silent = [k for k in range(x.shape[0]) if not np.any(x[k])]
        if silent:
            raise InvalidAudioError(
                f"{what} source(s) {silent} are all-zero over the whole signal; BSSEval cannot score them "
                "(use si_sdr, which scores a silent estimate as very poor)"
            )
    win = int(round(sample_rate * window_seconds))
    if win < 1:
        raise ConfigError(f"window of {sample_rate} * {window_seconds} s is under one sample")

    from museval.metrics import bss_eval as _museval_bss_eval  # slow import (pandas, musdb)

    # museval wants (nsrc, nsampl, nchan); it returns (SDR, ISR, SIR, SAR, perm), each (nsrc, nwin).
    sdr, isr, sir, sar, _ = _museval_bss_eval(ref[:, :, None], est[:, :, None], window=win, hop=win)
    framewise = {"SDR": sdr, "SIR": sir, "SAR": sar, "ISR": isr}
    n_win = sdr.shape[1]
    # NaN marks museval's silent windows; +inf (an exactly zero error term, e.g. a perfect
    # estimate) is a legitimate score and is kept.
    keep = np.ones(n_win, dtype=bool)
    for v in framewise.values():
        keep &= ~np.any(np.isnan(v), axis=0)
    out: dict[str, Any] = {}
    for name in BSS_METRICS:
        kept = framewise[name][:, keep]
        out[name] = np.median(kept, axis=1) if kept.shape[1] else np.full(ref.shape[0], np.nan)
    out["skipped_windows"] = int(n_win - keep.sum())
    out["windows"] = int(n_win)
    out["framewise"] = framewise
    return out


def median_over_items(values):
    """NaN-ignoring median over items (axis 0): the "median over tracks" of papers.

    values: a sequence of same-shaped arrays (e.g. per-item ``(K,)`` SI-SDRs) or an array
    ``(n_items, ...)`` -> ``(...)``; or a sequence of :func:`bss_eval` dicts -> one dict with
    the per-source median of each metric and the summed ``skipped_windows`` / ``windows``.
    All-NaN positions give NaN (without a warning).
    """
    if isinstance(values, Sequence) and values and isinstance(values[0], Mapping):
        out: dict[str, Any] = {m: median_over_items([v[m] for v in values]) for m in BSS_METRICS if m in values[0]}
        for key in ("skipped_windows", "windows"):
            if key in values[0]:
                out[key] = int(sum(v[key] for v in values))
        return out
    arr = (np.stack([_as_numpy(v, "scores", finite=False) for v in values]) if not isinstance(values, np.ndarray)
           else values.astype(np.float64))
    if arr.shape[0] == 0:
        raise ConfigError("median_over_items needs at least one item")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        return np.nanmedian(arr, axis=0)
