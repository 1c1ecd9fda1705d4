"""The mask-space search (``SamplerConfig(space="mask")``, priorsep/separation/mask_space.py)."""
import numpy as np
import pytest
import torch

from priorsep.errors import ConfigError
from priorsep.mixing import minimum_norm_split, mix
from priorsep.separation.config import SamplerConfig
from priorsep.separation.langevin import _log_densities, anneal
from priorsep import langevin_separate
from priorsep.dsp.masks import masked_sources
from priorsep.separation.mask_space import _keep_best_chain, fitted_window, initial_logits

from ..conftest import zero_mean_set


def mask_config(**kw):
    base = dict(space="mask", sigma_max=0.3, sigma_min=0.01, n_levels=3, steps_per_level=10, mask_n_fft=64,
                mask_hop=16)
    return SamplerConfig().updated(**{**base, **kw})


@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0), (0.5, 0.25, 1.0)])
def test_plain_ascent_with_gaussian_priors_finds_the_posterior_mean(weights):
    """Zero-mean Gaussian priors N(0, v_k) under the exact constraint: the posterior mean is the
    Wiener split s_k = w_k v_k m / sum_j w_j^2 v_j, a constant mask. Pins the sign of the step,
    the weights and the softmax pull-back."""
    variances = (1.0, 0.25, 2.0)
    priors = zero_mean_set(variances, weights)
    m = torch.randn(2, 512, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    sl = 0.01
    cfg = mask_config(sigma_max=sl, sigma_min=sl, n_levels=1, steps_per_level=400, mask_distill=False)
    s = anneal(priors, m, cfg, torch.Generator().manual_seed(0))
    v = torch.tensor(variances, dtype=m.dtype) + sl**2
    w = torch.tensor(weights, dtype=m.dtype)
    expected = (w * v)[None, :, None] * m[:, None] / (w**2 * v).sum()
    torch.testing.assert_close(s, expected, atol=2e-3 * m.abs().max().item(), rtol=1e-2)


def test_score_distillation_hovers_around_the_posterior_mean():
    """The default step (scores at s + sigma eps) is the plain one in expectation: close, not exact."""
    priors = zero_mean_set((1.0, 0.25), (1.0, 1.0))
    m = torch.randn(1, 2048, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    cfg = mask_config(sigma_max=0.3, sigma_min=0.3, n_levels=1, steps_per_level=300, mask_lr=0.02)
    s = anneal(priors, m, cfg, torch.Generator().manual_seed(0))
    share = torch.tensor([1.09, 0.34], dtype=m.dtype) / 1.43  # v + sigma^2 over their sum
    expected = share[None, :, None] * m[:, None]
    err = (s - expected).pow(2).sum() / expected.pow(2).sum()
    assert err < 0.01, f"relative error {err:.4f}"


def test_the_volume_term_gives_each_source_its_typical_level():
    """Polar MAP (``mask_volume=1``): for N(0, v) the level maximising -r^2 / 2v + (T - 1) log r is
    r^2 = (T - 1) v, the typical set's, where the plain MAP (the Wiener split) leaves a quiet
    source 25 x too quiet."""
    priors = zero_mean_set((1.0, 0.04), (1.0, 1.0))
    gen = torch.Generator().manual_seed(1)
    truth = torch.randn(2, 2, 1024, generator=gen, dtype=torch.float64) * torch.tensor([1.0, 0.2])[:, None]
    m = truth.sum(1)
    level = {}
    for volume in (0.0, 1.0):
        cfg = mask_config(sigma_max=0.01, sigma_min=0.01, n_levels=1, steps_per_level=400, mask_distill=False,
                          mask_volume=volume)
        s = anneal(priors, m, cfg, torch.Generator().manual_seed(0))
        torch.testing.assert_close(mix(s, priors.weights), m)
        level[volume] = s.pow(2).mean(-1)
    assert torch.all(level[0.0][:, 1] < 0.002)  # Wiener: (0.04 / 1.04)^2 * 1.04
    torch.testing.assert_close(level[1.0][:, 1], torch.full((2,), 0.04, dtype=m.dtype), rtol=0.05, atol=0)
    assert torch.all((level[1.0][:, 0] - 1).abs() < 0.15)
    with pytest.raises(ConfigError, match="mask_volume"):
        mask_config(mask_volume=-1.0)


@pytest.mark.parametrize("init", ["mixture", "noise"])
def test_every_state_meets_the_mixture_exactly(init):
    priors = zero_mean_set((1.0, 0.25, 0.5), (0.5, 0.25, 1.0))
    m = torch.randn(2, 300, dtype=torch.float64)
    s = anneal(priors, m, mask_config(init=init, n_chains=2), torch.Generator().manual_seed(0))
    assert s.shape == (2, 3, 300)
    torch.testing.assert_close(mix(s, priors.weights), m)


def test_mixture_init_is_the_minimum_norm_split():
    w = torch.tensor([0.5, 0.25, 1.0], dtype=torch.float64)
    m = torch.randn(2, 256, dtype=torch.float64)
    from priorsep.dsp.stft import stft

    spec = stft(m, 64, 16)
    theta = initial_logits(m, w, spec.shape[-2], spec.shape[-1], "mixture", torch.Generator(), None, 64, 16)
    torch.testing.assert_close(masked_sources(theta, spec, w, 64, 16, 256), minimum_norm_split(m, w.tolist()))


def test_variational_init_starts_from_the_estimates_ratio_mask():
    """Started from the true sources, the first state is their ratio-mask split: far better than the mix."""
    from priorsep.evaluation.metrics import si_sdr
    from priorsep.dsp.stft import stft

    t = torch.arange(2048, dtype=torch.float64)
    truth = torch.stack([torch.sin(2 * np.pi * t / 37), torch.sign(torch.sin(2 * np.pi * t / 11))])[None]
    w = torch.tensor([0.5, 0.5], dtype=torch.float64)
    m = mix(truth, w.tolist())
    spec = stft(m, 256, 64)
    theta = initial_logits(m, w, spec.shape[-2], spec.shape[-1], "variational", torch.Generator(), truth, 256, 64)
    start = masked_sources(theta, spec, w, 256, 64, 2048)
    assert (si_sdr(start[0].numpy(), truth[0].numpy()) > 15).all()
    assert (si_sdr(minimum_norm_split(m, w.tolist())[0].numpy(), truth[0].numpy()) < 5).all()


def test_same_seed_same_output_and_different_seed_differs():
    priors = zero_mean_set((1.0, 0.25), (1.0, 1.0))
    mixture = np.random.default_rng(0).standard_normal(400).astype(np.float32)
    kw = dict(space="mask", n_levels=2, steps_per_level=3, mask_n_fft=64, mask_hop=16)
    a = langevin_separate(mixture, priors, seed=5, **kw)
    b = langevin_separate(mixture, priors, seed=5, **kw)
    c = langevin_separate(mixture, priors, seed=6, **kw)
    np.testing.assert_array_equal(a["s0"], b["s0"])
    assert not np.allclose(a["s0"], c["s0"])
    assert a["s0"].shape == mixture.shape


def test_keep_best_chain_takes_the_densest_chain_and_its_optimiser_state():
    b, c, k = 2, 3, 2
    theta = torch.randn(b * c, k, 5, 4, requires_grad=True)
    opt = torch.optim.Adam([theta], lr=0.1)
    theta.grad = torch.randn_like(theta)
    opt.step()
    density = torch.tensor([0.0, 2.0, 1.0, 5.0, 3.0, 4.0])  # best: chain 1 of mix 0, chain 0 of mix 1

    def densities(s, sigma):
        return density[:, None].expand(-1, k) / k

    spec = torch.randn(b * c, 5, 4, dtype=torch.complex64)
    kept, kept_spec, n, new = _keep_best_chain(theta, spec, opt, torch.zeros(b * c, k, 8), densities, 0.1, b, c)
    assert n == 1
    torch.testing.assert_close(kept.detach(), theta.detach()[[1, 3]])
    torch.testing.assert_close(kept_spec, spec[[1, 3]])
    torch.testing.assert_close(new.state[kept]["exp_avg"], opt.state[theta]["exp_avg"][[1, 3]])
    kept.grad = torch.ones_like(kept)
    new.step()  # the optimiser goes on from the kept state


@pytest.mark.parametrize("settings,msg", [
    (dict(space="spectral"), "space must be"),
    (dict(space="mask", constraint="gaussian"), "constraint='dirac'"),
    (dict(space="mask", predictor=True), "predictor"),
    (dict(space="mask", mask_hop=600), "mask_hop"),
    (dict(space="mask", mask_lr=0.0), "mask_lr"),
])
def test_bad_mask_settings_are_clear_errors(settings, msg):
    priors = zero_mean_set((1.0, 0.25), (1.0, 1.0))
    with pytest.raises(ConfigError, match=msg):
        langevin_separate(np.random.default_rng(0).standard_normal(2048).astype(np.float32), priors, seed=0,
                          n_levels=1, steps_per_level=1, **settings)


def test_the_mask_window_shrinks_to_a_short_mix_and_a_mix_shorter_than_the_shortest_is_a_clear_error():
    assert fitted_window(4096, 1024, 16384) == (4096, 1024)
    assert fitted_window(4096, 1024, 1008) == (1024, 256)  # halved together until half a window fits
    assert fitted_window(1024, 256, 300) == (512, 128)
    assert fitted_window(64, 16, 40) == (64, 16)  # a window shorter than the shortest is kept
    priors = zero_mean_set((1.0, 0.25), (1.0, 1.0))
    mix = np.random.default_rng(0).standard_normal(300).astype(np.float32)
    est = langevin_separate(mix, priors, seed=0, space="mask", n_levels=1, steps_per_level=1)
    np.testing.assert_allclose(est["s0"] + est["s1"], mix, atol=1e-4)
    with pytest.raises(ConfigError, match="longer than 128 samples"):
        langevin_separate(mix[:100], priors, seed=0, space="mask", n_levels=1, steps_per_level=1)


def test_long_stereo_input_goes_through_overlap_add_and_still_meets_the_mix():
    priors = zero_mean_set((1.0, 0.25), (1.0, 1.0))
    stereo = np.random.default_rng(0).standard_normal((2, 5000)).astype(np.float32)
    est = langevin_separate(stereo, priors, seed=0, space="mask", n_levels=1, steps_per_level=2, mask_n_fft=64,
                            mask_hop=16, chunk=1024)
    assert est["s0"].shape == stereo.shape
    np.testing.assert_allclose(est["s0"] + est["s1"], stereo, atol=1e-4)


def test_reassign_gives_each_prior_the_estimate_it_rates_highest():
    """Two zero-mean Gaussian priors, variances 1 and 0.01: a loud estimate in the quiet prior's
    slot and a quiet one in the loud prior's slot get swapped (masks and all), unequal weights included."""
    from priorsep.separation.mask_space import reassign
    from priorsep.dsp.stft import stft

    priors = zero_mean_set((1.0, 0.01), (0.5, 1.0))
    w = torch.tensor(priors.weights, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    loud, quiet = torch.randn(1, 2048, generator=g, dtype=torch.float64), 0.1 * torch.randn(1, 2048, generator=g,
                                                                                            dtype=torch.float64)
    truth = torch.stack([loud, quiet], 1)  # (1, K, T): what each prior should get
    m = mix(truth, priors.weights)
    spec = stft(m, 256, 64)
    swapped = torch.stack([quiet * 1.0 / 0.5, loud * 0.5 / 1.0], 1)  # each slot holds the other's share
    theta = initial_logits(m, w, spec.shape[-2], spec.shape[-1], "variational", g, swapped, 256, 64)
    before = masked_sources(theta, spec, w, 256, 64, 2048)

    def densities(s, sigma):
        return _log_densities(priors, s, sigma)

    after = masked_sources(reassign(theta, before, w, densities, 0.01), spec, w, 256, 64, 2048)
    torch.testing.assert_close(after[:, 0], before[:, 1] * w[1] / w[0])
    torch.testing.assert_close(after[:, 1], before[:, 0] * w[0] / w[1])
    assert (after - truth).pow(2).sum() < 0.05 * truth.pow(2).sum() < (before - truth).pow(2).sum()
    # already right: left alone
    torch.testing.assert_close(reassign(theta[:, [1, 0]], after, w, densities, 0.01), theta[:, [1, 0]])


def test_mask_search_runs_wavenet_priors_through_the_same_interface(tiny_toy_wavenet_priors):
    """The WaveNet priors go through the mask search like the flows (one Prior interface, no special
    case): the estimates meet the mix, the final assignment runs, and the same seed repeats."""
    from priorsep import load_priors
    from priorsep.data.toy import TOY_SOURCES

    priors = load_priors(tiny_toy_wavenet_priors)
    m = np.random.default_rng(0).standard_normal(1024).astype(np.float32) * 0.5
    settings = dict(space="mask", sigma_max=0.2, sigma_min=0.01, n_levels=2, steps_per_level=2, mask_n_fft=256,
                    mask_hop=64, mask_assign=True)
    a = langevin_separate(m, priors=priors, seed=3, **settings)
    b = langevin_separate(m, priors=priors, seed=3, **settings)
    est = np.stack([a[n] for n in TOY_SOURCES])
    assert est.shape == (4, 1024) and np.isfinite(est).all()
    np.testing.assert_allclose(est.mean(0), m, atol=1e-5)  # toy mixing is the mean
    for n in TOY_SOURCES:
        np.testing.assert_array_equal(a[n], b[n])
