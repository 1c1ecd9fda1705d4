"""What every supervised or adversarial baseline shares: a network that is a :class:`~priorsep.separator.Separator`."""
from __future__ import annotations

import torch
from torch import nn

from ..dsp.masks import ratio_masked_sources
from ..dsp.stft import stft
from ..errors import ConfigError
from ..separator import Separator


class BaselineSeparator(nn.Module, Separator):
    """A trained network separator: ``separate(mix) -> {source: array shaped like mix}``.

    ``config`` holds everything needed to rebuild the model (saved as the checkpoint's JSON):
    ``sources`` (names, in output order), ``sample_rate`` (Hz), ``mix_weights`` (w_k of
    m = sum_k w_k s_k), ``channels`` (audio channels the network takes), hyper-parameters and the
    training record. Subclasses set ``kind`` and ``label`` and implement
    :meth:`~priorsep.separator.Separator.separate_tensor`.
    """

    kind: str = "separator"

    def __init__(self, config: dict):
        super().__init__()
        for key in ("sources", "sample_rate", "mix_weights"):
            if key not in config:
                raise ConfigError(f"{type(self).__name__} config needs {key!r}")
        if len(config["mix_weights"]) != len(config["sources"]):
            raise ConfigError(f"{len(config['sources'])} sources but {len(config['mix_weights'])} mixing weights")
        self.config = dict(config)

    @property
    def names(self) -> list[str]:
        return list(self.config["sources"])

    @property
    def sample_rate(self) -> int:
        return int(self.config["sample_rate"])

    @property
    def weights(self) -> list[float]:
        return [float(w) for w in self.config["mix_weights"]]

    @property
    def channels(self) -> int:
        return int(self.config.get("channels", 1))

    @property
    def device(self) -> torch.device:
        """Where its weights are (move it with ``.to(device)``; CPU for a network without any)."""
        first = next(self.parameters(), None)
        return first.device if first is not None else torch.device("cpu")

    @property
    def paired_items(self) -> int:
        """Paired (mix, stems) items it was trained on (its training record)."""
        return int(self.config.get("paired_items", self.config.get("paired", 0)))

    @property
    def paired_tracks(self) -> int | None:
        """Multitrack recordings its paired items were cropped from, where training was limited to a
        few (``train-baseline --paired-tracks``); None: not limited."""
        tracks = self.config.get("paired_tracks")
        return None if tracks is None else int(tracks)


class SpectralModelSeparator(BaselineSeparator):
    """A separator that models each source's magnitude spectrogram (the NMF dictionaries, the spectral VAE
    priors) and splits the mix's STFT (``config`` ``n_fft``, ``hop``) by the ratio masks of those models
    (:func:`priorsep.dsp.masks.ratio_masked_sources`, power ``config["mask_power"]``, default 1). Subclasses
    implement :meth:`parts` and set ``noun`` (what error messages call the method)."""

    noun = "spectral separation"

    def parts(self, spec: torch.Tensor) -> torch.Tensor:
        """The mixes' STFT ``spec (N, F, frames)`` -> each source's modelled magnitude ``(N, K, F, frames)``."""
        raise NotImplementedError

    def separate_tensor(self, mixes: torch.Tensor) -> torch.Tensor:
        if mixes.dim() != 3:
            raise ConfigError(f"separate_tensor takes mixes (B, C, T), got shape {tuple(mixes.shape)}")
        b, c, t = mixes.shape
        n_fft, hop = self.config["n_fft"], self.config["hop"]
        if t <= n_fft // 2:
            raise ConfigError(f"{self.noun} needs mixes longer than {n_fft // 2} samples, got {t}")
        spec = stft(mixes.reshape(b * c, t), n_fft, hop)  # (BC, F, N)
        w = torch.tensor(self.weights, dtype=mixes.dtype, device=mixes.device)
        sources = ratio_masked_sources(self.parts(spec), spec, w, n_fft, hop, t, self.config.get("mask_power", 1.0))
        return sources.reshape(b, c, -1, t).transpose(1, 2)  # the masks split w_k s_k


class SameLengthSeparator(BaselineSeparator):
    """A network whose output is as long as its input (it pads internally; no valid-convolution
    context): trained on crops of ``config["output_length"]`` samples by
    :func:`priorsep.training.supervised.train_supervised` (Demucs, Meta-TasNet)."""

    @property
    def input_length(self) -> int:
        return int(self.config["output_length"])

    @property
    def output_length(self) -> int:
        return int(self.config["output_length"])

    @property
    def context(self) -> tuple[int, int]:
        return 0, 0
