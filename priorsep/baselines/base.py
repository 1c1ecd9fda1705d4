"""What every supervised or adversarial baseline shares: a network that is a :class:`~priorsep.separator.Separator`."""
from __future__ import annotations

import torch
from torch import nn

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
