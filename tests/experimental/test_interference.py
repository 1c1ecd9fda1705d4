"""Off-manifold training inputs for denoiser priors (priorsep.experimental.interference)."""
import numpy as np
import pytest
import torch

from priorsep.experimental.interference import harmonic_tones, off_manifold_offset
from priorsep.errors import ConfigError


def test_harmonic_tones_are_seeded_pitched_and_peak_normalised():
    a = harmonic_tones(16, 2048, 8000, torch.Generator().manual_seed(3))
    b = harmonic_tones(16, 2048, 8000, torch.Generator().manual_seed(3))
    assert a.shape == (16, 2048)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a.abs().amax(1), torch.ones(16))
    # pitched: each tone's spectrum is concentrated in a few peaks, not spread like noise
    power = torch.fft.rfft(a * torch.hann_window(2048)).abs() ** 2
    top = power.sort(1, descending=True).values
    assert (top[:, :60].sum(1) / power.sum(1)).min() > 0.9
    noise = torch.fft.rfft(torch.randn(2048) * torch.hann_window(2048)).abs() ** 2
    assert noise.sort(descending=True).values[:60].sum() / noise.sum() < 0.3


def test_offset_fraction_level_cap_and_determinism():
    clean = torch.sin(torch.arange(1024.0) / 7).repeat(200, 1)
    sigma = torch.full((200,), 0.1)
    off = off_manifold_offset(clean, sigma, 8000, torch.Generator().manual_seed(0), p=0.5)
    hit = off.abs().amax(1) > 0
    assert 60 < int(hit.sum()) < 140  # about half the items
    assert off.abs().amax(1).max() <= 3 * 0.1 + 1e-6  # capped at reach * sigma
    torch.testing.assert_close(off, off_manifold_offset(clean, sigma, 8000, torch.Generator().manual_seed(0), p=0.5))
    assert torch.all(off_manifold_offset(clean, sigma, 8000, torch.Generator(), p=0.0) == 0)
    big = off_manifold_offset(clean, torch.full((200,), 10.0), 8000, torch.Generator().manual_seed(1), p=1.0)
    # uncapped: a * clean + tones, with a <= 1, so the offset is never larger than clean + 3 peaks
    assert torch.all(big.abs().amax(1) > 0) and big.abs().amax(1).max() <= 4.0 + 1e-5


def test_training_uses_the_offsets_and_rejects_them_for_flows(tmp_path):
    from priorsep.data.toy import ToySourceCrops
    from priorsep.experimental.denoiser import DenoiserPrior
    from priorsep.priors.flow import FlowPrior
    from priorsep.training.prior import train_prior

    def fresh():
        torch.manual_seed(0)
        return DenoiserPrior(dict(source="sine", sample_rate=14700, sigma_min=0.05, sigma_max=1.0, mix_weight=0.25,
                                  hidden=8, n_fft=64, hop=16, layers=2))

    data = ToySourceCrops("sine", 256, seed=0)
    plain = train_prior(fresh(), data, tmp_path / "a", steps=6, batch_size=8, checkpoint_every=6, quiet=True)
    off = train_prior(fresh(), data, tmp_path / "b", steps=6, batch_size=8, checkpoint_every=6, quiet=True,
                      off_manifold=1.0)
    assert all(np.isfinite(r["loss"]) for r in off)
    assert [r["loss"] for r in plain] != [r["loss"] for r in off]  # the inputs differ
    flow = FlowPrior(dict(source="sine", sample_rate=14700, sigma_min=0.05, sigma_max=1.0, mix_weight=0.25))
    with pytest.raises(ConfigError, match="denoiser"):
        train_prior(flow, data, tmp_path / "c", steps=1, batch_size=2, quiet=True, off_manifold=0.5)
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        train_prior(fresh(), data, tmp_path / "d", steps=1, batch_size=2, quiet=True, off_manifold=1.5)
