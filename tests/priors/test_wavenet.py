import math

import torch

from ..conftest import tiny_wavenet


def test_receptive_field():
    """Shapes, sigma handling, checkpoints, sampling and normalisation: tests/priors/test_protocol.py."""
    assert tiny_wavenet().receptive_field == 1 + 1 + 2 + 4 + 1


def test_causal_future_does_not_change_past():
    p = tiny_wavenet(seed=1)
    # perturb the net so that the test is not passed by a trivially constant network
    with torch.no_grad():
        for q in p.parameters():
            q.add_(0.3 * torch.randn_like(q))
    x = torch.randn(2, 40)
    y = x.clone()
    y[:, 25:] += torch.randn(2, 15)
    inp = lambda v: torch.nn.functional.pad(v[:, None, :-1], (1, 0))  # noqa: E731
    ls = torch.zeros(2, 1)
    out_x, out_y = p.net(inp(x), ls), p.net(inp(y), ls)
    # predictions for t <= 25 use inputs < 25 only; the prediction of t = 26 sees the change
    assert torch.allclose(out_x[..., :26], out_y[..., :26], atol=1e-6)
    assert not torch.allclose(out_x[..., 26], out_y[..., 26], atol=1e-4)
    # and the log density of the first 25 samples ignores the rest
    assert torch.allclose(p.log_prob(x[:, :25], 0.2), p.log_prob(y[:, :25], 0.2))


def test_gaussian_output_matches_closed_form():
    """With the last layer zeroed, every sample is N(mean, scale^2) in scaled units: an iid Gaussian."""
    p = tiny_wavenet(n_mix=1)
    with torch.no_grad():
        p.net.end2.weight.zero_()
        p.net.end2.bias.copy_(torch.tensor([0.0, 0.3, 0.7]))  # logit, mean, raw scale
    sigma, sd = 0.2, 0.5
    c = 1 / math.sqrt(sd**2 + sigma**2)
    scale = sigma * c * math.exp(math.log1p(math.exp(0.7)))  # noise floor * exp(softplus(raw))
    x = torch.randn(4, 30)
    expected = torch.distributions.Normal(0.3 / c, scale / c).log_prob(x).sum(-1)
    assert torch.allclose(p.log_prob(x, sigma), expected, atol=1e-4)


def test_component_scales_never_below_noise_level():
    p = tiny_wavenet()
    with torch.no_grad():
        p.net.end2.bias.fill_(-50.0)  # push raw scales to -inf
    x = torch.zeros(1, 10)
    for sigma in (0.01, 0.1):
        # density at the mean is bounded by the noise level's Gaussian peak: 1 / (sqrt(2 pi) sigma)
        assert p.log_prob(x, sigma).item() / 10 <= -0.5 * math.log(2 * math.pi) - math.log(sigma) + 1e-4


def test_fast_generation_matches_teacher_forcing():
    p = tiny_wavenet(seed=3)
    with torch.no_grad():
        for q in p.parameters():
            q.add_(0.3 * torch.randn_like(q))
    x, outs = p._generate(2, 30, 0.3, torch.Generator().manual_seed(0))
    c = p._scale(torch.tensor(0.3))
    inp = torch.nn.functional.pad((x * c)[:, None, :-1], (1, 0))
    full = p.net(inp, torch.full((2, 1), math.log(0.3)))
    assert torch.allclose(outs, full, atol=1e-5)
