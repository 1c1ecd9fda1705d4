"""Reading, writing and validating audio."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
from ..errors import AudioFileError, AudioFileNotFoundError, DataNotFoundError, InvalidAudioError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aiff", ".aif")


#: Largest accepted |sample|. Float audio lives in [-1, 1] (sums of stems a little beyond); values
#: far outside are unscaled integer PCM or garbage, on which the priors and models are meaningless.
MAX_ABS_SAMPLE = 1000.0


def validate_mix(mix, name: str = "mix", max_channels: int = 64) -> np.ndarray:
    """Check a mixture and return it as float32 ``(T,)`` or ``(C, T)`` (channels, samples).

    Raises :class:`~priorsep.errors.InvalidAudioError` for anything a separator cannot use: a
    non-numeric, boolean, complex or integer dtype, wrong rank, more than ``max_channels``
    channels (a ``(T, C)`` array passed for ``(C, T)``), empty, NaN/inf, all-zero, or samples
    beyond +-``MAX_ABS_SAMPLE``.
    """
    if hasattr(mix, "detach"):  # a torch tensor (possibly with grad, on a GPU, or bfloat16)
        mix = mix.detach().cpu()
        mix = (mix.float() if mix.is_floating_point() else mix).numpy()
    dtype = getattr(mix, "dtype", None)  # lists and scalars: whatever numpy makes of them
    if dtype is not None:
        kind = np.dtype(dtype).kind
        if kind in "iu":
            raise InvalidAudioError(f"{name} has integer samples ({dtype}); convert to float in [-1, 1] first "
                                    "(e.g. x / 32768 for 16-bit PCM)")
        if kind not in "f":
            raise InvalidAudioError(f"{name} has {dtype} samples; expected real floating-point audio")
    try:
        arr = np.asarray(mix, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise InvalidAudioError(f"{name} must be a numeric array shaped (T,) or (C, T): {e}") from None
    if arr.ndim not in (1, 2):
        raise InvalidAudioError(f"{name} must be shaped (T,) or (C, T) (channels, samples); got shape {arr.shape}")
    if arr.size == 0 or arr.shape[-1] == 0:
        raise InvalidAudioError(f"{name} is empty (shape {arr.shape}); expected at least one sample")
    if arr.ndim == 2 and arr.shape[0] > max_channels:
        raise InvalidAudioError(f"{name} has {arr.shape[0]} channels (shape {arr.shape}); expected (C, T) with at most "
                                f"{max_channels} channels -- transpose a (T, C) array")
    if not np.all(np.isfinite(arr)):
        raise InvalidAudioError(f"{name} contains NaN or inf samples; expected finite audio")
    if not np.any(arr):
        raise InvalidAudioError(f"{name} is all zeros (silent); there is nothing to separate")
    peak = float(np.abs(arr).max())
    if peak > MAX_ABS_SAMPLE:
        raise InvalidAudioError(f"{name} peaks at {peak:.3g}; expected float audio in about [-1, 1] "
                                f"(at most {MAX_ABS_SAMPLE:g}): scale it down")
    return arr


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Polyphase resampling of ``x (..., T)`` from ``rate`` to ``target`` Hz, as float32."""
    from scipy.signal import resample_poly

    g = np.gcd(rate, target)
    return resample_poly(x, target // g, rate // g, axis=-1).astype(np.float32)


def fit_length(x: np.ndarray, length: int) -> np.ndarray:
    """``x (..., T')`` cut or zero-padded at the end to ``length`` samples."""
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, max(0, length - x.shape[-1]))])[..., :length]


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a file as float32 ``(C, T)`` and its sample rate."""
    path = Path(path)
    if not path.is_file():
        raise AudioFileNotFoundError(f"audio file not found: {path}")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except RuntimeError as e:
        raise AudioFileError(f"cannot read {path} as audio: {e}") from None
    return np.ascontiguousarray(data.T), int(rate)


def write_audio(path: str | Path, audio: np.ndarray, rate: int) -> None:
    """Write ``(T,)`` or ``(C, T)`` float audio as 32-bit float wav, atomically (temp file + rename):
    an interrupted write never leaves a truncated file that looks finished."""
    audio = np.asarray(audio, dtype=np.float32)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        sf.write(str(tmp), audio.T if audio.ndim == 2 else audio, rate, subtype="FLOAT", format="WAV")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def list_audio_files(folder: str | Path) -> list[Path]:
    """All audio files under ``folder`` (recursive, sorted)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"data folder not found: {folder}")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
