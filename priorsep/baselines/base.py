"""The interface every supervised or adversarial baseline separator implements."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..data.audio import validate_mix
from ..errors import ConfigError, InvalidAudioError


class Separator(nn.Module):
    """A trained separator: ``separate(mix) -> {source: array shaped like mix}``.

    ``config`` holds everything needed to rebuild the model (saved as the checkpoint's JSON):
    ``sources`` (names, in output order), ``sample_rate`` (Hz), ``mix_weights`` (w_k of
    m = sum_k w_k s_k), ``channels`` (audio channels the network takes), hyper-parameters and the
    training record. Subclasses set ``kind`` and implement :meth:`separate_tensor`.
    """

    kind: str = "separator"
    label: str = "separator"  # its row in benchmark tables

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

    def separate_tensor(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T)`` float32 of any length ``T`` -> sources ``(B, K, C, T)`` on the sources' scale."""
        raise NotImplementedError

    @torch.no_grad()
    def separate(self, mix) -> dict[str, np.ndarray]:
        """Separate a mix ``(T,)`` or ``(C, T)`` (float, at :attr:`sample_rate`) of any length.

        A mono model separates each channel of a multi-channel mix on its own.
        Returns one array per source, shaped and typed (float32) like the validated mix.
        """
        m = validate_mix(mix)
        was_training = self.training
        self.eval()
        x = torch.from_numpy(m.reshape(-1, m.shape[-1]))  # (C, T)
        if self.channels == 1:
            est = self.separate_tensor(x[:, None])[:, :, 0]  # (C, K, T)
            est = est.transpose(0, 1)  # (K, C, T)
        elif x.shape[0] == self.channels:
            est = self.separate_tensor(x[None])[0]  # (K, C, T)
        else:
            raise InvalidAudioError(f"this model separates {self.channels}-channel audio; the mix has {x.shape[0]} channels")
        self.train(was_training)
        est = est.numpy().astype(np.float32)
        return {name: est[k].reshape(m.shape) for k, name in enumerate(self.names)}
