"""The files a listening report points to: compressed audio clips and spectrogram images."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

#: Ogg Vorbis: about a tenth of 16-bit WAV, decoded by every current browser
AUDIO_SUFFIX = ".ogg"
_PEAK = 0.98  # Vorbis clips above full scale


def write_clip(path: str | Path, audio: np.ndarray, rate: int, gain: float = 1.0) -> Path:
    """Write ``audio (T,)`` or ``(C, T)`` times ``gain`` as an Ogg Vorbis clip at ``rate`` Hz (the
    suffix becomes :data:`AUDIO_SUFFIX`); returns the path. Samples beyond full scale are clipped."""
    path = Path(path).with_suffix(AUDIO_SUFFIX)
    x = np.clip(np.asarray(audio, dtype=np.float64) * gain, -_PEAK, _PEAK)
    sf.write(path, x.T if x.ndim == 2 else x, rate, format="OGG", subtype="VORBIS")
    return path


def common_gain(signals: list[np.ndarray]) -> float:
    """One gain for all of an item's clips, so the loudest peaks at :data:`_PEAK` and the clips keep
    their levels relative to each other (a quiet estimate sounds quiet)."""
    peak = max(float(np.abs(s).max()) for s in signals)
    return _PEAK / peak if peak > 0 else 1.0


def spectrogram_db(audio: np.ndarray, width: int = 240, n_fft: int = 512) -> np.ndarray:
    """The log-magnitude spectrogram ``(n_fft / 4, frames)`` in dB of ``audio (T,)`` or ``(C, T)``
    (channels averaged; each row the louder of two neighbouring bins, Nyquist dropped: a thumbnail
    needs no finer grid), about ``width`` frames across whatever its length."""
    import torch

    from ..dsp.stft import stft

    mono = np.asarray(audio, dtype=np.float32).reshape(-1, np.shape(audio)[-1]).mean(0)
    hop = max(1, min(n_fft // 2, len(mono) // width))
    mag = stft(torch.from_numpy(mono), n_fft, hop).abs().numpy()[:-1]
    return 20 * np.log10(mag.reshape(n_fft // 4, 2, -1).max(1) + 1e-9)


def write_spectrogram(path: str | Path, db: np.ndarray, top_db: float, floor_db: float = 80.0) -> Path:
    """A PNG of a :func:`spectrogram_db` image, low frequencies at the bottom, ``floor_db`` of range
    below ``top_db`` (one value for all of an item's images, so they compare). Written with a
    256-colour palette (magma): a third of the size of a true-colour PNG, which keeps reports small."""
    from matplotlib import colormaps
    from PIL import Image

    level = np.clip((db - (top_db - floor_db)) / floor_db, 0, 1)
    image = Image.fromarray(np.round(255 * level[::-1]).astype(np.uint8), mode="P")
    image.putpalette(np.round(255 * colormaps["magma"](np.arange(256))[:, :3]).astype(np.uint8).ravel().tolist())
    path = Path(path)
    image.save(path, optimize=True)
    return path
