import numpy as np
import pytest

from priorsep.errors import ConfigError, NumericalError
import torch

import priorsep
from priorsep.mixing import mix
from priorsep.priors.gaussian import GaussianPrior
from priorsep.priors.io import PriorSet
from priorsep.separation import langevin
from priorsep.separation.config import SamplerConfig
from priorsep.separation.langevin import anneal, separate_tensor
from priorsep import langevin_separate


def signal_config(**settings) -> SamplerConfig:
    """Signal-space Langevin from sigma 1 over 20 x 20 steps, with ``settings`` (flat keys) changed."""
    return SamplerConfig().updated(**{"space": "signal", "sigma_max": 1.0, "n_levels": 20, "steps_per_level": 20,
                                      **settings})


def gaussian_posterior(m, means, variances, weights, noise_var):
    """Mean and variance of s_k | m for s_k ~ N(mu_k, v_k), m ~ N(sum w s, noise_var)."""
    means, variances, weights = map(np.asarray, (means, variances, weights))
    total = (weights**2 * variances).sum() + noise_var
    resid = m - (weights * means).sum()
    return [(mu + v * w * resid / total, v - (v * w) ** 2 / total) for mu, v, w in zip(means, variances, weights)]


@pytest.mark.parametrize("constraint,weights", [("dirac", (1.0, 1.0)), ("dirac", (0.5, 0.25)), ("gaussian", (1.0, 1.0)),
                                               ("gaussian", (0.5, 0.25))])
def test_gaussian_priors_recover_known_posterior(constraint, weights):
    """Pins every sign and factor: mean (drift terms) and variance (noise scale) of the samples."""
    means, variances = (0.5, -0.2), (1.0, 0.25)
    priors = PriorSet([
        GaussianPrior(dict(source=n, sample_rate=8000, mean=mu, variance=v, mix_weight=w))
        for n, mu, v, w in zip("ab", means, variances, weights)
    ])
    m = torch.tensor([[1.3, -0.7, 0.0, 2.0]], dtype=torch.float64).repeat(1, 1024)
    # one noise level, long enough to mix: the samples follow the posterior at that level, where the
    # prior is N(mu, v + sigma^2) and the mix likelihood has variance gamma^2 (0 for dirac)
    sl = 0.3
    cfg = signal_config(sigma_max=sl, sigma_min=sl, n_levels=1, steps_per_level=300, step_size=0.3,
                         constraint=constraint, gamma_scale=1.0, denoise=False)
    g = torch.Generator().manual_seed(0)
    samples = torch.stack([anneal(priors, m, cfg, g) for _ in range(8)])[:, 0]  # (chains, K, T)
    noise_var = 0.0 if constraint == "dirac" else (cfg.experimental.gamma_scale * sl) ** 2
    expected = gaussian_posterior(m[0, :4].numpy(), means, [v + sl**2 for v in variances], weights, noise_var)
    for k in range(2):
        # pool the 8 chains x 1024 repeats of each of the 4 mix values
        got = samples[:, k].reshape(8, 1024, 4).permute(2, 0, 1).reshape(4, -1)
        mean, var = expected[k]
        np.testing.assert_allclose(got.mean(1).numpy(), mean, atol=0.03)
        np.testing.assert_allclose(got.var(1).numpy(), np.full(4, var), rtol=0.12, atol=2e-3)


@pytest.mark.parametrize("select_below", [0.0, 0.5])
def test_dirac_constraint_holds_exactly_with_chains(gaussian_set, select_below):
    m = torch.randn(2, 64, dtype=torch.float64)
    cfg = signal_config(n_levels=3, steps_per_level=5, n_chains=3, select_below=select_below)
    s = anneal(gaussian_set, m, cfg, torch.Generator().manual_seed(0))
    assert s.shape == (2, 2, 64)
    torch.testing.assert_close(mix(s, gaussian_set.weights), m)


def test_chain_selection_picks_the_highest_posterior_density(gaussian_set, monkeypatch):
    """With several chains per mix the one returned is the chain of highest posterior density
    among those the sampler ran (its last scoring sees every chain)."""
    seen = []

    def recording(priors, s, sigma, pool=None, bfloat16=False):
        g, lp = scores(priors, s, sigma, pool, bfloat16)
        seen.append((s.clone(), lp.clone()))
        return g, lp

    scores = langevin._scores
    monkeypatch.setattr(langevin, "_scores", recording)
    m = torch.randn(2, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    cfg = signal_config(n_levels=2, steps_per_level=3, n_chains=16, denoise=False, sigma_max=1.0, sigma_min=0.5)
    best = anneal(gaussian_set, m, cfg, torch.Generator().manual_seed(0))
    chains, lp = seen[-1]  # the final scoring of all 2 x 16 chains, on which the selection is made
    assert chains.shape == (32, 2, 32)
    density = lp.sum(1).view(2, 16)  # dirac: the posterior density is the priors' on the plane
    assert len(set(density.flatten().tolist())) == 32  # the chains differ: the choice matters
    pick = density.argmax(1)
    torch.testing.assert_close(best, chains.view(2, 16, 2, 32)[torch.arange(2), pick], rtol=0, atol=0)
    assert pick.tolist() != [0, 0]


def test_overlap_add_of_an_exact_split_reconstructs_the_mix(monkeypatch, gaussian_set):
    """Chunking with an 'identity' separator (each source = mix / 2) must give back the input."""
    def identity_split(priors, pieces, config, generator, progress=False, init_fn=None):
        return pieces[:, None].repeat(1, len(priors), 1) / 2

    monkeypatch.setattr(langevin, "anneal", identity_split)
    m = torch.randn(3, 1000, dtype=torch.float64)
    out = separate_tensor(gaussian_set, m, signal_config(chunk=128), torch.Generator())
    assert out.shape == (3, 2, 1000)
    torch.testing.assert_close(out.sum(1), m)


def test_langevin_separate_shapes_seed_and_channels(gaussian_set):
    rng = np.random.default_rng(0)
    mono = rng.standard_normal(300).astype(np.float32)
    kw = dict(priors=gaussian_set, space="signal", n_levels=2, steps_per_level=3)
    a = langevin_separate(mono, seed=1, **kw)
    b = langevin_separate(mono, seed=1, **kw)
    c = langevin_separate(mono, seed=2, **kw)
    assert set(a) == {"a", "b"} and a["a"].shape == (300,)
    np.testing.assert_array_equal(a["a"], b["a"])
    assert not np.array_equal(a["a"], c["a"])
    stereo = rng.standard_normal((2, 300)).astype(np.float32)
    assert langevin_separate(stereo, seed=0, **kw)["b"].shape == (2, 300)


@pytest.mark.parametrize("bad,msg", [
    (np.zeros(100), "all zeros"),
    (np.array([]), "empty"),
    (np.array([0.1, np.nan, 0.2]), "NaN"),
    (np.array([0.1, np.inf]), "NaN or inf"),
    (np.zeros((2, 2, 10)) + 1, r"\(T,\) or \(C, T\)"),
])
def test_bad_input_is_rejected(bad, msg, gaussian_set):
    with pytest.raises(ValueError, match=msg):
        langevin_separate(bad, priors=gaussian_set)


def test_unknown_prior_set_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="no prior set 'nope'"):
        priorsep.langevin_separate(np.ones(100), priors="nope")


def test_bad_settings_are_rejected(gaussian_set):
    with pytest.raises(ValueError, match="constraint"):
        langevin_separate(np.ones(64), priors=gaussian_set, constraint="soft")
    with pytest.raises(ConfigError, match="unknown Langevin setting.*n_steps"):
        langevin_separate(np.ones(64), priors=gaussian_set, n_steps=3)
    with pytest.raises(ConfigError, match="n_levels='3' should be a int"):
        langevin_separate(np.ones(64), priors=gaussian_set, n_levels="3")
    with pytest.raises(ConfigError, match="score_precision"):
        langevin_separate(np.ones(64), priors=gaussian_set, score_precision="half")


def test_divergence_is_an_error_not_nan_output(gaussian_set):
    with pytest.raises(NumericalError, match="diverged"):
        langevin_separate(np.ones(64), priors=gaussian_set, space="signal", step_size=50.0, constraint="gaussian",
                          gamma_scale=0.01, n_levels=2, steps_per_level=20)


def _predictor_law(m, sigmas, means, variances):
    """Exact law of the predictor-only sampler (dirac constraint, ``init="mixture"``, Tweedie step at
    the end) for two summed Gaussian sources: every step is linear in the coordinate u along
    (1, -1)/sqrt(2) of the constraint plane, so u stays Gaussian. Returns the mean ``(T,)`` and the
    variance of s_a = m/2 + u/sqrt(2)."""
    (mu_a, mu_b), (v_a, v_b) = means, variances

    def drift(u_mean, sigma):  # d . grad log p at s = (m/2 + u/sqrt2, m/2 - u/sqrt2): (slope, offset)
        a, b = v_a + sigma**2, v_b + sigma**2
        return -(1 / a + 1 / b) / 2, ((mu_a - m / 2) / a + (m / 2 - mu_b) / b) / np.sqrt(2)

    mean, var = np.zeros_like(m), sigmas[0] ** 2  # minimum-norm split plus sigma_1 noise on the plane
    for prev, sigma in zip(sigmas[:-1], sigmas[1:]):  # s <- s + d score(prev) + sqrt(d) eps, d = prev^2 - sigma^2
        d = prev**2 - sigma**2
        slope, offset = drift(mean, prev)
        mean, var = mean + d * (slope * mean + offset), (1 + d * slope) ** 2 * var + d
    slope, offset = drift(mean, sigmas[-1])  # Tweedie: s + sigma_L^2 score
    d = sigmas[-1] ** 2
    mean, var = mean + d * (slope * mean + offset), (1 + d * slope) ** 2 * var
    return m / 2 + mean / np.sqrt(2), var / 2


def test_predictor_only_sampler_follows_its_exact_gaussian_law(gaussian_set):
    """Reverse diffusion with exact Gaussian scores: each source's draws have the mean and variance
    the discrete sampler implies (computed in closed form), to within their sampling error. That
    law is not the posterior: noised priors restricted to the plane are not the noised posterior,
    and 60 levels leave the variance at 0.253 (0.232 with 600) against the posterior's 0.2."""
    from priorsep.schedule import geometric_sigmas

    with pytest.raises(ValueError, match="steps_per_level"):
        signal_config(steps_per_level=0)
    n = 16384
    m = torch.randn(1, n, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    cfg = signal_config(n_levels=60, steps_per_level=0, predictor=True, sigma_max=3.0)
    s = anneal(gaussian_set, m, cfg, torch.Generator().manual_seed(0))
    torch.testing.assert_close(mix(s, gaussian_set.weights), m)
    mean, var = _predictor_law(m[0].numpy(), geometric_sigmas(3.0, cfg.schedule.sigma_min, 60).numpy(), (0.5, -0.2),
                               (1.0, 0.25))
    assert 0.25 < var < 0.26  # the discrete law; the posterior's variance is 1 - 1 / 1.25 = 0.2
    r = s[0, 0].numpy() - mean  # n independent N(0, var) draws if the sampler is right
    assert abs(r.mean()) < 5 * np.sqrt(var / n)
    assert abs(r.var() / var - 1) < 5 * np.sqrt(2 / n)  # 5.5 %: a 0.2 (or 3x) variance fails


def test_bfloat16_scores_approximate_the_float32_ones_in_float32():
    """``score_precision="bfloat16"`` runs the priors under autocast inside the worker threads: the
    scores differ from float32 (so autocast took effect) by a few percent and come back as float32."""
    from priorsep.priors.io import PriorSet
    from ..conftest import tiny_wavenet

    priors = PriorSet([tiny_wavenet("a", seed=0, mix_weight=1.0), tiny_wavenet("b", seed=1, mix_weight=1.0)])
    s = torch.randn(2, 2, 1024, generator=torch.Generator().manual_seed(0)) * 0.5
    with langevin._prior_threads(2) as pool:
        g32, lp32 = langevin._scores(priors, s, 0.05, pool)
        g16, lp16 = langevin._scores(priors, s, 0.05, pool, bfloat16=True)
    assert g16.dtype == lp16.dtype == torch.float32
    rel = float((g16 - g32).norm() / g32.norm())
    assert 1e-4 < rel < 0.1, rel
    torch.testing.assert_close(lp16, lp32, rtol=0.02, atol=0)
