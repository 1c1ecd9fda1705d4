"""Langevin posterior draws: on Gaussian priors, where the posterior is known in closed form, their
mean, (co)variance and interval coverage; they meet the mix; same seed, same draws."""
import numpy as np
import pytest
import torch

import priorsep
from priorsep.errors import ConfigError
from priorsep.priors.gaussian import GaussianPrior
from priorsep.priors.io import PriorSet
from priorsep.separation.config import SamplerConfig, make_config
from priorsep.separation.draws import DrawSettings, chain_config, separate_with_draws
from priorsep.separation.langevin import separate_tensor
from priorsep.separation.uncertainty import confidence_db, spread_track

MEANS, VARIANCES = (0.5, -0.2), (1.0, 0.25)
SIGMA = 0.3  # the priors' smallest noise level in these tests: the draws sample the posterior under N(mu, v + SIGMA^2)
# the search that starts the chains: signal-space Langevin at SIGMA (a mask search needs > n_fft / 2 samples)
SEARCH = SamplerConfig().updated(space="signal", sigma_max=1.0, sigma_min=SIGMA, n_levels=5, steps_per_level=10)
# one level at SIGMA, long enough to forget the start; step_size 0.2: the unadjusted Langevin
# algorithm's variance bias is about eta / (2 v_post) = 0.2 * 0.09 / (2 * 0.26) = 3.5 %
LONG = DrawSettings(samples=64, restarts=1, sigma=SIGMA, levels=1, steps=300)


def gaussian_set(weights=(1.0, 1.0)) -> PriorSet:
    return PriorSet([GaussianPrior(dict(source=n, sample_rate=8000, mean=mu, variance=v, mix_weight=w))
                     for n, mu, v, w in zip("ab", MEANS, VARIANCES, weights)])


def posterior(m: np.ndarray, weights) -> list[tuple[np.ndarray, float]]:
    """Mean ``(T,)`` and variance of s_k | m for s_k ~ N(mu_k, v_k + SIGMA^2), m = sum_k w_k s_k exactly."""
    v = np.array(VARIANCES) + SIGMA**2
    w, mu = np.array(weights), np.array(MEANS)
    total = (w**2 * v).sum()
    return [(mu[k] + v[k] * w[k] * (m - (w * mu).sum()) / total, v[k] - (v[k] * w[k]) ** 2 / total) for k in range(2)]


def truth_and_draws(weights, seed=0, n=4096):
    """Sources drawn from the priors at SIGMA, their mix, and 64 draws ``(S, K, T)`` for it."""
    g = np.random.default_rng(seed)
    s = np.stack([mu + np.sqrt(v + SIGMA**2) * g.standard_normal(n) for mu, v in zip(MEANS, VARIANCES)])
    m = torch.from_numpy((np.array(weights)[:, None] * s).sum(0))[None]  # (1, T) float64
    config = SEARCH.updated(step_size=0.2, chunk=n)
    _, d = separate_with_draws(gaussian_set(weights), m, config, LONG, torch.Generator().manual_seed(seed))
    return s, m[0].numpy(), d[:, 0].numpy()


@pytest.mark.parametrize("weights", [(1.0, 1.0), (0.5, 0.25)])
def test_draws_follow_the_exact_gaussian_posterior(weights):
    """Pins the noise scale, the step and the projection: mean, variances and the cross-covariance
    (-w_a / w_b times a's variance on the plane) of the draws against the closed form."""
    _, m, d = truth_and_draws(weights)
    expected = posterior(m, weights)
    for k, (mean, var) in enumerate(expected):
        # the mean of 64 draws at each of 4096 samples misses the posterior mean by N(0, var / 64)
        z = (d[:, k].mean(0) - mean) / np.sqrt(var / 64)
        assert abs(z.mean()) < 0.1 and 0.9 < z.std() < 1.15, (z.mean(), z.std())
        np.testing.assert_allclose(d[:, k].var(0).mean(), var, rtol=0.06)
    cov = ((d[:, 0] - d[:, 0].mean(0)) * (d[:, 1] - d[:, 1].mean(0))).mean(0).mean()
    np.testing.assert_allclose(cov, -weights[0] / weights[1] * expected[0][1], rtol=0.06)
    np.testing.assert_allclose((np.array(weights)[None, :, None] * d).sum(1), np.broadcast_to(m, (64, len(m))),
                               atol=1e-9)


def test_90_percent_intervals_cover_the_truth_90_percent_of_the_time():
    """Calibration: per sample, mean +- 1.645 std of the draws; over 2 x 4096 samples x 2 sources."""
    covered = []
    for seed in (1, 2):
        s, _, d = truth_and_draws((1.0, 1.0), seed=seed)
        mean, std = d.mean(0), d.std(0, ddof=1)
        covered.append(np.abs(s - mean) <= 1.645 * std)
    coverage = np.mean(covered)
    assert 0.87 <= coverage <= 0.93, coverage


def test_draws_meet_the_mix_and_the_seed_fixes_them():
    priors = gaussian_set((0.5, 0.25))
    mix = np.random.default_rng(3).standard_normal((2, 3000)).astype(np.float32)  # two channels, any length
    kw = dict(samples=3, draws=dict(restarts=2), space="signal", sigma_max=1.0, sigma_min=SIGMA, n_levels=3,
              steps_per_level=5, chunk=1024)
    means, draws = priorsep.langevin_separate(mix, priors, seed=7, **kw)
    assert draws["a"].shape == (3, 2, 3000) and means["b"].shape == (2, 3000)
    np.testing.assert_allclose(0.5 * draws["a"] + 0.25 * draws["b"], np.broadcast_to(mix, (3, 2, 3000)), atol=1e-5)
    np.testing.assert_allclose(means["a"], draws["a"].mean(0), atol=1e-6)
    again = priorsep.langevin_separate(mix, priors, seed=7, **kw)[1]
    other = priorsep.langevin_separate(mix, priors, seed=8, **kw)[1]
    assert np.array_equal(draws["a"], again["a"]) and not np.allclose(draws["a"], other["a"])
    assert not np.allclose(draws["a"][0], draws["a"][1])  # distinct chains


def test_the_first_restart_is_the_plain_search():
    priors = gaussian_set()
    m = torch.randn(2, 2048, dtype=torch.float64)
    config = SEARCH.updated(chunk=1024)
    plain = separate_tensor(priors, m, config, torch.Generator().manual_seed(5))
    search, draws = separate_with_draws(priors, m, config, DrawSettings(samples=4, restarts=2, levels=2, steps=3),
                                        torch.Generator().manual_seed(5))
    torch.testing.assert_close(search, plain, rtol=0, atol=0)
    assert draws.shape == (4, 2, 2, 2048)


def test_restarts_start_from_noise_or_from_the_search_s_own_start(monkeypatch):
    """Restarts after the first run the search from random starts (``restart_init="noise"``) or from
    the search's own (``"same"``); the first is always the plain search."""
    import priorsep.separation.draws as draws_module

    priors = gaussian_set()
    m = torch.randn(2, 512, dtype=torch.float64)
    real, inits = draws_module.anneal, []

    def recording(priors, mixes, config, generator, init_fn=None):
        inits.append(config.init)
        return real(priors, mixes, config, generator, init_fn=init_fn)

    monkeypatch.setattr(draws_module, "anneal", recording)
    runs = {}
    for init in ("noise", "same"):
        inits.clear()
        search, runs[init] = draws_module.search_and_draw(
            priors, m, SEARCH, DrawSettings(samples=3, restarts=3, levels=1, steps=1, restart_init=init),
            torch.Generator().manual_seed(5))
        assert inits == ["mixture"] + [init if init == "noise" else "mixture"] * 2
        torch.testing.assert_close(search, real(priors, m, SEARCH, torch.Generator().manual_seed(5)), rtol=0, atol=0)
    torch.testing.assert_close(runs["noise"][0], runs["same"][0], rtol=0, atol=0)  # draw 0: from the first search


def test_encoder_restarts_start_where_the_restart_fn_says_and_need_an_encoder_start(monkeypatch):
    """``restart_init="encoder"``: the later restarts run the search's own settings from the starts
    ``restart_fn`` gives (one per later restart), the first from ``init_fn``; a search that does not
    start from an encoder cannot restart from one."""
    import priorsep.separation.draws as draws_module

    priors = gaussian_set()
    m = torch.randn(2, 512, dtype=torch.float64)
    first = torch.zeros(2, 2, 512, dtype=torch.float64)
    later = torch.stack([torch.full((2, 2, 512), float(r + 1), dtype=torch.float64) for r in range(2)])
    real, starts = draws_module.anneal, []

    def recording(priors, mixes, config, generator, init_fn=None):
        starts.append((config.init, None if init_fn is None else init_fn(mixes)))
        return real(priors, mixes, config, generator, init_fn=init_fn)

    monkeypatch.setattr(draws_module, "anneal", recording)
    settings = DrawSettings(samples=3, restarts=3, levels=1, steps=1, restart_init="encoder")
    variational = SEARCH.updated(init="variational")
    calls = []

    def restart_fn(mixes, n):
        calls.append(n)
        return later[:n]

    draws_module.search_and_draw(priors, m, variational, settings, torch.Generator().manual_seed(5),
                                 init_fn=lambda x: first, restart_fn=restart_fn)
    assert calls == [2] and [init for init, _ in starts] == ["variational"] * 3
    for (_, got), want in zip(starts, [first, later[0], later[1]]):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    # "auto", the default: the encoder where the search starts from one, else random masks
    assert DrawSettings().restart_init == "auto"
    auto = DrawSettings(samples=3, restarts=3, levels=1, steps=1)
    starts.clear()
    draws_module.search_and_draw(priors, m, variational, auto, torch.Generator().manual_seed(5),
                                 init_fn=lambda x: first, restart_fn=restart_fn)
    assert calls == [2, 2] and [init for init, _ in starts] == ["variational"] * 3
    starts.clear()
    draws_module.search_and_draw(priors, m, SEARCH, auto, torch.Generator().manual_seed(5))
    assert [init for init, _ in starts] == ["mixture", "noise", "noise"] and calls == [2, 2]
    with pytest.raises(ConfigError, match="restart_init='encoder' needs a search that starts from an encoder"):
        draws_module.search_and_draw(priors, m, SEARCH, settings, torch.Generator().manual_seed(5))


def test_the_separator_restarts_from_the_encoder_at_another_alignment(tiny_toy_priors):
    """The hybrid's draws with ``restart_init="encoder"``: restart 1 starts from the encoder's
    estimate of the mix delayed by half its alignment span (the delay undone)."""
    import torch.nn.functional as F

    from priorsep.encoders import MaskEncoder, encoder_posterior

    priors = priorsep.load_priors(tiny_toy_priors)
    torch.manual_seed(3)
    enc = MaskEncoder(priors.weights, hidden=4, levels=2, n_fft=256, hop=64).eval()
    torch.nn.init.normal_(enc.out.weight, std=1.0)
    config = make_config(dict(init="variational", space="mask", n_levels=1, steps_per_level=1), base=priors.sampler)
    sep = priorsep.separation.separators.LangevinSeparator(
        priors, config, encoder=enc, seed=2, draws=DrawSettings(samples=2, restarts=2, levels=1, steps=1,
                                                              restart_init="encoder"))
    x = torch.randn(1, 1024) * 0.3
    starts = sep._restart_fn(torch.Generator())(x, 1)
    expected = encoder_posterior(enc, F.pad(x, (32, 0)))[0][..., 32:]
    assert starts.shape == (1, 1, len(priors), 1024)
    torch.testing.assert_close(starts[0], expected, atol=1e-6, rtol=0)
    search, means, draws = sep.search_and_draws(x[0].numpy(), 2)
    for name, est in sep.separate(x[0].numpy()).items():  # the first restart is still the plain search
        np.testing.assert_array_equal(search[name], est)
    total = sum(w * draws[n] for w, n in zip(priors.weights, sep.names))
    np.testing.assert_allclose(total, np.broadcast_to(x[0].numpy(), (2, 1024)), atol=1e-4)


def test_a_quarter_of_the_chains_start_from_the_later_restarts():
    from priorsep.separation.draws import chain_starts

    assert chain_starts(DrawSettings()) == [0] * 6 + [1] * 2  # 8 draws, 2 restarts: the default
    assert chain_starts(DrawSettings(samples=8, restarts=3)) == [0] * 6 + [1, 2]
    assert chain_starts(DrawSettings(samples=4, restarts=4)) == [0, 1, 2, 3]  # one each at least
    assert chain_starts(DrawSettings(samples=2, restarts=2, restart_share=0.9)) == [0, 1]  # one from the search
    assert chain_starts(DrawSettings(samples=5, restarts=1)) == [0] * 5
    assert chain_starts(DrawSettings(samples=8, restarts=2, restart_share=0.5)) == [0] * 4 + [1] * 4


def test_chain_config_is_low_noise_dirac_langevin_without_denoising():
    c = chain_config(SamplerConfig(), DrawSettings(levels=4, steps=5))  # the toy search: sigma_min 0.01
    assert (c.space, c.init, c.experimental.constraint, c.signal.denoise) == ("signal", "variational", "dirac", False)
    assert (c.schedule.sigma_max, c.schedule.sigma_min, c.schedule.n_levels, c.schedule.steps_per_level) == (
        pytest.approx(0.03), 0.01, 4, 5)
    with pytest.raises(ConfigError, match="below the search's sigma_min"):
        chain_config(SamplerConfig(), DrawSettings(sigma=0.001))


@pytest.mark.parametrize("bad,msg", [(dict(samples=0), "samples >= 1"), (dict(restarts=3, samples=2), "restarts <="),
                                     (dict(sigma=-1.0), "sigma >= 0"), (dict(steps=1.5), "steps >= 1"),
                                     (dict(restart_init="swap"), "restart_init one of"),
                                     (dict(restart_share=1.0), "restart_share < 1")])
def test_bad_draw_settings_are_rejected(bad, msg):
    with pytest.raises(ConfigError, match=msg):
        DrawSettings(**bad)


def test_bad_samples_and_draws_for_other_methods_are_rejected():
    mix = np.zeros(2048, np.float32)
    with pytest.raises(ConfigError, match="samples must be an integer >= 1"):
        priorsep.langevin_separate(mix, gaussian_set(), samples=0, space="signal")
    with pytest.raises(ConfigError, match="draw settings"):
        priorsep.load_separator("toy", "variational", draws=dict(restarts=1))
    with pytest.raises(ConfigError, match="draws"):
        priorsep.load_separator("waveunet-toy", draws=dict(restarts=1))


def test_confidence_reads_like_an_sdr_and_the_spread_track_is_relative():
    g = np.random.default_rng(0)
    clean = np.sin(np.arange(4000) / 7)
    draws = clean + 0.1 * g.standard_normal((16, 4000))  # draws 10x below the signal's amplitude
    # |mean|^2 / spread: 0.5 / 0.01 (the mean absorbs 1/16 of the spread) -> about 17 dB
    assert confidence_db(draws) == pytest.approx(10 * np.log10(0.5 / (0.01 * 15 / 16)), abs=0.3)
    track = spread_track(draws, 400)
    assert track.shape == (10,) and np.allclose(track, 0.1 / np.sqrt(0.5), rtol=0.15)
    assert confidence_db(np.stack([clean, clean])) > 150  # identical draws
    with pytest.raises(ConfigError, match="S >= 2"):
        confidence_db(clean[None])
