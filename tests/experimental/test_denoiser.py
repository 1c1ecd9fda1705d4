"""The denoiser prior family: Tweedie score, sign conventions, training, checkpoints."""
import numpy as np
import pytest
import torch

from priorsep.errors import ConfigError
from priorsep.experimental.denoiser import DenoiserPrior
from priorsep.priors.io import PriorSet, load_prior, save_prior


def tiny(seed=0, network="unet", **kw):
    torch.manual_seed(seed)
    return DenoiserPrior(dict(source="a", sample_rate=8000, sigma_min=0.01, sigma_max=1.0, mix_weight=1.0,
                              hidden=8, levels=3, n_fft=64, hop=16, layers=2, sigma_data=0.5, network=network,
                              **kw)).eval()


@pytest.mark.parametrize("network,context", [("unet", False), ("stft", False), ("stft", True)])
def test_untrained_denoiser_is_the_exact_gaussian_score(network, context):
    """At initialisation D = c_skip x, the optimal denoiser of N(0, sigma_data^2) data: the score
    must be that of N(0, sigma_data^2 + sigma^2). Pins the sign and every factor."""
    p = tiny(network=network, global_context=context)
    x = torch.randn(3, 64, dtype=torch.float32)
    for sigma in (0.05, 0.5, 2.0):
        g, lp = p.score(x, sigma)
        torch.testing.assert_close(g, -x / (0.25 + sigma**2), rtol=1e-5, atol=1e-5)
        exact = torch.distributions.Normal(0.0, (0.25 + sigma**2) ** 0.5).log_prob(x).sum(-1)
        torch.testing.assert_close(lp, exact, rtol=1e-5, atol=1e-3)
        torch.testing.assert_close(p.log_prob(x, sigma), exact, rtol=1e-5, atol=1e-3)


def test_langevin_with_untrained_denoisers_recovers_the_gaussian_posterior_mean():
    """Two N(0, 0.25) sources (untrained denoisers) summed: E[s_k | m] = m / 2 at small sigma."""
    from priorsep import langevin_separate

    priors = PriorSet([tiny(0), DenoiserPrior({**tiny(1).config, "source": "b"}).eval()])
    m = np.sin(np.arange(256) / 5).astype(np.float32)
    copies = np.repeat(m[None], 64, 0)  # 64 independent posterior samples (one per "channel")
    est = langevin_separate(copies, priors=priors, seed=0, space="signal", n_levels=3, steps_per_level=50,
                            sigma_max=0.3, sigma_min=0.01, n_chains=1)
    np.testing.assert_allclose(est["a"] + est["b"], copies, atol=1e-4)  # dirac constraint
    # posterior: s_a = m/2 + N(0, 0.125) per sample; the mean of 64 draws is within ~0.04 of m/2
    assert np.abs(est["a"].mean(0) - m / 2).mean() < 0.08
    assert 0.25 < est["a"].std(0).mean() < 0.45


def test_shapes_errors_and_round_trip(tmp_path):
    p = tiny()
    with pytest.raises(ConfigError, match="multiple of 8"):
        p.denoise(torch.zeros(1, 60), 0.1)
    with pytest.raises(ConfigError, match="network"):
        tiny(network="mlp")
    assert tiny(network="stft").length_multiple == 16
    save_prior(p, tmp_path / "a")
    q = load_prior(tmp_path / "a")
    x = torch.randn(2, 32)
    torch.testing.assert_close(q.denoise(x, 0.3), p.denoise(x, 0.3))
    assert q.kind == "denoiser" and q.length_multiple == 8


@pytest.mark.parametrize("network", ["unet", "stft"])
def test_training_lowers_the_denoising_loss(tmp_path, network):
    from priorsep.data.toy import ToySourceCrops
    from priorsep.training.prior import train_prior

    p = tiny(network=network)
    log = train_prior(p, ToySourceCrops("square", 256, seed=0), tmp_path / "sq", steps=40, batch_size=8, lr=3e-3,
                      checkpoint_every=20, quiet=True)
    first, last = np.mean([r["loss"] for r in log[:5]]), np.mean([r["loss"] for r in log[-5:]])
    assert "denoising" in log[0] and last < first


def test_log_prob_gradient_is_the_score():
    """Autograd through log_prob (the ELBO's reparametrised gradient) must give the Tweedie score."""
    p = tiny(network="stft")
    torch.nn.init.normal_(p.net.end.weight, std=0.1)  # a non-linear denoiser
    x = torch.randn(2, 64, requires_grad=True)
    lp = p.log_prob(x, 0.3)
    (grad,) = torch.autograd.grad(lp.sum(), x)
    torch.testing.assert_close(grad, p.score(x, 0.3)[0])
    assert not torch.allclose(grad, -x / (0.25 + 0.09), atol=1e-3)


def test_harmonic_stacking_reads_the_partials():
    from priorsep.experimental.denoiser import STFTMaskNet

    net = STFTMaskNet(64, 16, 4, 1, harmonics=(0.5, 1.0, 3.0))
    spec = torch.randn(1, 33, 5, dtype=torch.complex64)
    f = net.features(spec)
    logmag = torch.log(spec.abs() ** 2 + 1e-6)[0]
    assert f.shape == (1, 3, 33, 5)
    torch.testing.assert_close(f[0, 1], logmag)
    torch.testing.assert_close(f[0, 2, 10], logmag[30])  # bin 10 sees bin 30
    assert torch.all(f[0, 2, 11:] == 0)  # 3 * 11 = 33 is past Nyquist
    torch.testing.assert_close(f[0, 0, 10], logmag[5])


def test_global_context_sees_the_whole_spectrum_and_window():
    """A bin's output must depend on a far-away bin (other frequency, other frame) with global
    context, and not without it (5 x 3 layers reach ~11 bins and frames)."""
    from priorsep.experimental.denoiser import STFTMaskNet

    outs = {}
    for context in (False, True):
        torch.manual_seed(0)
        net = STFTMaskNet(256, 64, 4, 2, global_context=context)
        torch.nn.init.normal_(net.end.weight, std=0.5)
        y = torch.randn(1, 1, 64 * 40)
        far = y.clone()
        far[0, 0, 64 * 30: 64 * 34] += torch.sin(torch.arange(256.0) * 2.9)  # late frames, high bins
        spec = lambda v: torch.stft(net(v, torch.zeros(1, 1))[0, 0], 256, 64, window=torch.hann_window(256),
                                    return_complex=True)
        outs[context] = (spec(far) - spec(y))[:20, :8].abs().max()  # low bins, early frames
    assert outs[False] < 1e-4 and outs[True] > 1e-3


def test_reverse_diffusion_samples_the_gaussian_of_an_untrained_denoiser():
    """Untrained, the prior is N(0, sigma_data^2 + sigma^2): samples must have that spread, and the
    same generator seed must give the same draws."""
    p = tiny(network="stft")
    a = p.sample(64, 256, 0.1, generator=torch.Generator().manual_seed(1), steps=60)
    b = p.sample(64, 256, 0.1, generator=torch.Generator().manual_seed(1), steps=60)
    assert a.shape == (64, 256) and torch.equal(a, b)
    assert abs(a.std().item() - (0.25 + 0.01) ** 0.5) < 0.015
    with pytest.raises(ConfigError, match="multiple of 16"):
        p.sample(1, 100, 0.1)
