"""Paired training data for the waveform baselines' training tests."""
import torch


class ScaledCopies(torch.utils.data.Dataset):
    """Paired items whose source k is ``(k + 1) / 10`` of a mix (a random low sine): a target a working training
    learns fast."""

    def __init__(self, length: int, size: int):
        self.length, self.size = length, size

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(int(i))
        f, phase, gain = torch.rand(3, generator=g)
        mix = gain * torch.sin(0.05 * f * torch.arange(self.length) + 6.3 * phase)
        return mix, mix * torch.arange(1, 5)[:, None] / 10
