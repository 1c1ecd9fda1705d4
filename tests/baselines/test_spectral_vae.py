"""Spectral VAE priors: the fit separates sources whose decoders give their own spectra (exact where the
spectra are disjoint), estimates mix back to the input and repeat exactly, the VAE's loss, checkpoints
(float16 storage), bad settings."""
import numpy as np
import pytest
import torch

from priorsep.baselines import load_baseline, save_baseline
from priorsep.baselines.spectral_vae import SpectralVAE, SpectralVAESeparator, beta_divergence_rows
from priorsep.data.toy import TOY_SOURCES
from priorsep.dsp.nmf import beta_divergence
from priorsep.dsp.stft import stft
from priorsep.errors import ConfigError
from priorsep.evaluation.metrics import si_sdr
from priorsep.mixing import mix

from .test_nmf import WEIGHTS, _tones


def tiny(**kw) -> SpectralVAESeparator:
    torch.manual_seed(0)
    cfg = dict(sources=list(TOY_SOURCES), sample_rate=14700, mix_weights=WEIGHTS, n_fft=256, hop=64, context=2,
               latent=3, hidden=16, iterations=20)
    return SpectralVAESeparator({**cfg, **kw})


def _own_spectra(model: SpectralVAESeparator, sources: torch.Tensor) -> None:
    """Each decoder gives its source's mean spectrum (in every frame of the window), whatever its latent."""
    c = model.config["context"]
    for k, vae in enumerate(model.vaes):
        shape = stft(sources[k], 256, 64).abs().mean(-1).repeat(c) + 1e-8
        last = vae.dec[-1]
        with torch.no_grad():
            last.weight.zero_()
            last.bias.copy_(torch.log(shape / shape.sum()))


def test_sources_whose_decoders_give_their_own_disjoint_spectra_are_recovered():
    sources = _tones([300.0, 1200.0, 3000.0, 6000.0])
    model = tiny(iterations=60)
    _own_spectra(model, sources)
    est = model.separate_tensor(mix(sources, WEIGHTS)[None, None])[0, :, 0]
    assert est.shape == sources.shape
    scores = [si_sdr(est[k].numpy(), sources[k].numpy()) for k in range(4)]
    assert min(scores) > 20, scores


def test_estimates_mix_back_to_the_input_and_repeat_exactly():
    model = tiny()
    x = torch.randn(2, 1, 3000)
    est = model.separate_tensor(x)
    assert est.shape == (2, 4, 1, 3000)
    torch.testing.assert_close(mix(est.transpose(1, 2), WEIGHTS), x, atol=1e-4, rtol=1e-4)
    assert torch.equal(model.separate_tensor(x), est)
    torch.testing.assert_close(model.separate_tensor(x[1:]), est[1:], atol=1e-5, rtol=1e-5)
    assert all(p.grad is None for p in model.parameters())  # the fit moves latents and gains, never the weights


def test_the_fit_lowers_its_objective():
    """More fit steps: the fitted parts explain the mix's windows better (the β-divergence falls)."""
    sources = _tones([300.0, 1200.0, 3000.0, 6000.0])
    x = (sources * torch.tensor([1.0, 0.1, 0.5, 0.02])[:, None]).sum(0)
    model = tiny()
    _own_spectra(model, sources)
    v = model.windows(stft(x, 256, 64).abs(), pad=True)
    errors = []
    for steps in (0, 40):
        model.config["iterations"] = steps
        errors.append(beta_divergence(v, model.fit_parts(v).sum(0), 0.5).item())
    assert errors[1] < 0.5 * errors[0], errors


def test_the_vae_loss_is_its_divergence_plus_the_weighted_kl():
    vae = SpectralVAE(dim=6, latent=2, hidden=8)
    shape = torch.rand(5, 6) + 0.1
    shape = shape / shape.sum(-1, keepdim=True)
    no_kl = vae.loss(shape, 0.5, 0.0)
    rec = beta_divergence_rows(shape * 6, vae.decode(vae.encode(shape)[0]) * 6, 0.5)
    torch.testing.assert_close(no_kl, rec)
    assert torch.all(vae.loss(shape, 0.5, 1.0) >= no_kl)  # the KL term is never negative
    assert torch.allclose(vae.decode(torch.randn(3, 2)).sum(-1), torch.ones(3))
    torch.testing.assert_close(beta_divergence_rows(shape, shape.flip(0), 1.5).sum(),
                               beta_divergence(shape, shape.flip(0), 1.5))


def test_bad_settings_and_short_mixes_are_config_errors():
    with pytest.raises(ConfigError, match="beta in"):
        tiny(beta=1.0)
    with pytest.raises(ConfigError, match="hop"):
        tiny(hop=0)
    with pytest.raises(ConfigError, match="context >= 1"):
        tiny(context=0)
    with pytest.raises(ConfigError, match="prior_weight >= 0"):
        tiny(prior_weight=-1.0)
    with pytest.raises(ConfigError, match="storage must be one of"):
        tiny(storage="int8")
    with pytest.raises(ConfigError, match="longer than 128 samples"):
        tiny().separate_tensor(torch.zeros(1, 1, 100))


def test_save_load_round_trip_and_float16_storage(tmp_path):
    model = tiny(hidden=64)
    save_baseline(model, tmp_path / "vae")
    loaded = load_baseline(tmp_path / "vae")
    assert isinstance(loaded, SpectralVAESeparator) and loaded.paired_items == 0
    assert loaded.label == "spectral VAE priors, 2 frames"
    x = np.random.default_rng(0).standard_normal(3000).astype(np.float32)
    a, b = model.separate(x), loaded.separate(x)
    assert all(np.array_equal(a[n], b[n]) for n in TOY_SOURCES)

    half = tiny(hidden=64, storage="float16")
    half.load_state_dict(model.state_dict())
    save_baseline(half, tmp_path / "half")
    assert (tmp_path / "half.pt").stat().st_size < 0.6 * (tmp_path / "vae.pt").stat().st_size
    back = load_baseline(tmp_path / "half")
    assert all(p.dtype == torch.float32 for p in back.parameters())  # computes in float32
    c = back.separate(x)
    assert all(si_sdr(c[n], a[n]) > 30 for n in TOY_SOURCES)


def test_fitting_in_blocks_of_windows_gives_the_whole_fit(monkeypatch):
    """Long mixes are fitted a block of windows at a time (flat memory): the same estimates as one fit."""
    import priorsep.baselines.spectral_vae as module

    model = tiny()
    x = torch.randn(1, 1, 6000)
    whole = model.separate_tensor(x)
    monkeypatch.setattr(module, "FIT_BLOCK", 7)
    assert len(model.windows(stft(x[0, 0], 256, 64).abs(), pad=True)) > 3 * 7
    torch.testing.assert_close(model.separate_tensor(x), whole, atol=1e-5, rtol=1e-5)
