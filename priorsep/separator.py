"""The one protocol every separation method implements (prior-based searches and samplers,
variational encoders, supervised and adversarial baselines).

A :class:`Separator` knows its source ``names`` (output order), ``sample_rate`` (Hz) and mixing
``weights`` (w_k of m = sum_k w_k s_k), separates a batch of mixtures as tensors with
:meth:`~Separator.separate_tensor` and a user's array with :meth:`~Separator.separate`. Build one
with :func:`priorsep.load_separator`; the file runner, the benchmarks and the CLI take a built one.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from .data.audio import validate_mix
from .device import resolve_device
from .errors import ConfigError, InvalidAudioError


class Separator:
    """``separate(mix) -> {source: array shaped like mix}``; ``separate_tensor`` is the batched form.

    Subclasses provide :attr:`names`, :attr:`sample_rate`, :attr:`weights` and
    :meth:`separate_tensor`; :attr:`channels` says how many audio channels the method separates
    jointly (1: each channel of a multi-channel mix on its own). ``label`` names its benchmark row
    and ``paired_items`` counts the paired (mix, stems) items it was trained on (0 for priors
    trained on solo stems only, ``None`` for an oracle).
    """

    label: str = "separator"
    paired_items: int | None = 0
    progress: bool = False  # the method's own progress bar, where it has one (long searches)

    @property
    def names(self) -> list[str]:
        raise NotImplementedError

    @property
    def sample_rate(self) -> int:
        raise NotImplementedError

    @property
    def weights(self) -> list[float]:
        raise NotImplementedError

    @property
    def channels(self) -> int:
        return 1

    @property
    def device(self) -> torch.device:
        """Where it separates: :meth:`separate_tensor` takes and returns tensors on this device."""
        return torch.device("cpu")

    def to(self, device: torch.device | str) -> "Separator":
        """Separate on ``device``; returns self. Here, for a separator without weights of its own:
        it computes on the CPU and takes only ``"cpu"`` (prior sets and baselines move their models)."""
        if resolve_device(device).type != "cpu":
            raise ConfigError(f"{self.label} runs on the CPU only; got device {device!r}")
        return self

    def separate_tensor(self, mixes: torch.Tensor) -> torch.Tensor:
        """``mixes (B, C, T)`` float32 of any length ``T`` (``C`` = :attr:`channels`) on :attr:`device`
        -> sources ``(B, K, C, T)`` on the sources' scale, in :attr:`names` order."""
        raise NotImplementedError

    def mix_channels(self, mix, name: str = "mix") -> tuple[np.ndarray, torch.Tensor]:
        """``mix`` checked (:func:`~priorsep.data.audio.validate_mix`: ``(T,)`` or ``(C, T)``), and as a
        ``(C, T)`` tensor on :attr:`device`, one row per channel."""
        m = validate_mix(mix, name=name)
        return m, torch.from_numpy(m.reshape(-1, m.shape[-1]).copy()).to(self.device)

    @torch.no_grad()
    def separate(self, mix, name: str = "mix") -> dict[str, np.ndarray]:
        """Separate ``mix``, a float array ``(T,)`` or ``(C, T)`` at :attr:`sample_rate`, of any length.

        A one-channel method separates each channel of a multi-channel mix on its own. Returns one
        float32 array per source, shaped like the mix. ``name`` names the mix in error messages.
        Raises :class:`~priorsep.errors.InvalidAudioError` for a mix it cannot use.
        """
        m, x = self.mix_channels(mix, name)
        with _eval_mode(self):
            if self.channels == 1:
                est = self.separate_tensor(x[:, None])[:, :, 0].transpose(0, 1)  # (K, C, T)
            elif x.shape[0] == self.channels:
                est = self.separate_tensor(x[None])[0]  # (K, C, T)
            else:
                raise InvalidAudioError(f"this model separates {self.channels}-channel audio; "
                                        f"{name} has {x.shape[0]} channels")
        est = est.cpu().numpy().astype(np.float32)
        return {src: est[k].reshape(m.shape) for k, src in enumerate(self.names)}


@contextmanager
def _eval_mode(separator):
    """Networks separate in eval mode; a module's training flag is restored afterwards."""
    was_training = getattr(separator, "training", None)
    if was_training is not None:
        separator.eval()
    try:
        yield
    finally:
        if was_training is not None:
            separator.train(was_training)
