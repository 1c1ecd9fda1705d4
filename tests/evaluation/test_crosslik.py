import math

import numpy as np
import pytest
import torch

from priorsep.evaluation.crosslik import cross_likelihood, format_cross_likelihood, plot_cross_likelihood
from priorsep.priors.gaussian import GaussianPrior
from priorsep.priors.io import PriorSet

VARIANCES = {"a": 0.01, "b": 4.0}


class RecordingGaussian(GaussianPrior):
    """Records the batch size and grad mode of every log_prob call."""

    def __init__(self, config):
        super().__init__(config)
        self.calls = []

    def log_prob(self, x, sigma):
        self.calls.append((x.shape[0], torch.is_grad_enabled(), x.dtype))
        return super().log_prob(x, sigma)


@pytest.fixture
def two_gaussians():
    priors = PriorSet([
        RecordingGaussian(dict(source=n, sample_rate=8000, mean=0.0, variance=v, mix_weight=1.0))
        for n, v in VARIANCES.items()
    ])
    rng = np.random.default_rng(0)
    data = {n: (math.sqrt(v) * rng.standard_normal((40, 512))).astype(np.float32) for n, v in VARIANCES.items()}
    return priors, data


def expected_loglik(data_var, prior_var, sigma):
    """E[log N(x; 0, prior_var + sigma^2)] per sample for x ~ N(0, data_var + sigma^2)."""
    var = prior_var + sigma**2
    return -0.5 * ((data_var + sigma**2) / var + math.log(2 * math.pi * var))


def test_cross_likelihood_diagonal_and_values(two_gaussians):
    priors, data = two_gaussians
    sigmas = [0.01, 0.3, 1.0]
    mat = cross_likelihood(priors, data, sigmas, seed=0)
    assert mat.shape == (3, 2, 2)
    for i, s in enumerate(sigmas):
        assert mat[i, 0, 0] > mat[i, 0, 1] and mat[i, 1, 1] > mat[i, 1, 0]  # own prior wins
        for j, dv in enumerate(VARIANCES.values()):
            for k, pv in enumerate(VARIANCES.values()):
                # per-sample normalisation and the sigma-noise are both checked here: without the
                # added noise data "a" under prior "a" at sigma=1 would score -0.93, not -1.42
                exp = expected_loglik(dv, pv, s)
                assert mat[i, j, k] == pytest.approx(exp, rel=0.03, abs=0.03), (s, j, k, mat[i, j, k], exp)
    # narrow-prior penalty for broad data is large at small sigma
    assert mat[0, 1, 0] < -100


def test_cross_likelihood_batches_no_grad_and_seed(two_gaussians):
    priors, data = two_gaussians
    mat = cross_likelihood(priors, data, [0.5], seed=3)
    for p in priors:
        assert p.calls and all(n <= 16 and not grad for n, grad, _ in p.calls)
        assert sum(n for n, _, _ in p.calls) == 40 * 2  # every crop of both sources, once
        assert all(dt == torch.float32 for _, _, dt in p.calls)
    np.testing.assert_array_equal(mat, cross_likelihood(priors, data, [0.5], seed=3))
    assert not np.array_equal(mat, cross_likelihood(priors, data, [0.5], seed=4))
    # batch size does not change the result; torch input and a single (T,) crop are accepted
    np.testing.assert_allclose(mat, cross_likelihood(priors, data, [0.5], seed=3, batch_size=5), rtol=1e-6)
    single = cross_likelihood(priors, {"a": torch.from_numpy(data["a"][0])}, [0.5])
    assert single.shape == (1, 1, 2)
    with pytest.raises(ValueError):
        cross_likelihood(priors, data, [0.5], batch_size=32)
    with pytest.raises(ValueError):
        cross_likelihood(priors, data, [0.0])


def test_format_and_plot(tmp_path, two_gaussians):
    priors, data = two_gaussians
    sigmas = [0.01, 1.0]
    mat = cross_likelihood(priors, data, sigmas)
    text = format_cross_likelihood(mat, sigmas, list(data), priors.names)
    assert "sigma = 0.01" in text and "sigma = 1" in text
    lines = text.splitlines()
    a_rows = [row for row in lines if row.startswith("a ")]
    b_rows = [row for row in lines if row.startswith("b ")]
    assert len(a_rows) == 2 and len(b_rows) == 2
    # the row max is starred: the diagonal
    assert a_rows[0].split()[1].endswith("*") and not a_rows[0].split()[2].endswith("*")
    assert b_rows[0].split()[2].endswith("*") and not b_rows[0].split()[1].endswith("*")
    assert text.strip().endswith("yes")

    # a swapped prior order breaks the own-prior check, and the text says so
    swapped = format_cross_likelihood(mat[..., ::-1], sigmas, list(data), ["a", "b"])
    assert "NO" in swapped and swapped.strip().endswith("NO")
    assert "not applicable" in format_cross_likelihood(mat, sigmas, ["x", "y"], ["a", "b"])
    with pytest.raises(ValueError):
        format_cross_likelihood(mat, [0.01], list(data), priors.names)

    extreme = mat.copy()
    extreme[:, 1, 0] = -1e6
    path = plot_cross_likelihood(extreme, sigmas, list(data), priors.names, tmp_path / "sub" / "crosslik.png")
    assert path.is_file() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
