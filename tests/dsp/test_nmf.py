"""β-divergence NMF by multiplicative updates: the divergence falls, a fixed dictionary stays fixed,
an exact factorisation is recovered, bad β is refused; shingling stacks frames and unshingling undoes it."""
import pytest
import torch

from priorsep.dsp.nmf import beta_divergence, beta_nmf, shingle, unshingle


def _problem(seed=0, f=20, r=3, n=40):
    g = torch.Generator().manual_seed(seed)
    w, h = torch.rand(f, r, generator=g), torch.rand(r, n, generator=g)
    w0, h0 = torch.rand(f, r, generator=g) + 0.1, torch.rand(r, n, generator=g) + 0.1
    return w @ h, w0, h0


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0])
def test_the_divergence_falls(beta):
    v, w, h = _problem()
    start = beta_divergence(v, w @ h, beta)
    losses = []
    for _ in range(5):
        w, h = beta_nmf(v, w, h, 20, beta)
        losses.append(float(beta_divergence(v, w @ h, beta)))
    assert losses[-1] < 0.2 * float(start)
    if beta >= 1:  # the updates are monotone for beta in [1, 2] (Fevotte & Idier 2011)
        assert all(b <= a * (1 + 1e-5) for a, b in zip(losses, losses[1:]))
    assert torch.allclose(w.sum(0), torch.ones(3))  # the scale lives in h


def test_a_fixed_dictionary_stays_fixed_and_the_activations_are_recovered():
    g = torch.Generator().manual_seed(1)
    w = torch.eye(6)[:, :3] + 0.05  # well conditioned
    h_true = torch.rand(3, 10, generator=g) + 0.5
    _, h = beta_nmf(w @ h_true, w, torch.ones(3, 10), 500, 1.0, update_dictionary=False)
    torch.testing.assert_close(h, h_true, atol=1e-3, rtol=1e-3)
    w2, _ = beta_nmf(w @ h_true, w, torch.ones(3, 10), 3, 1.0, update_dictionary=False)
    assert torch.equal(w2, w)


def test_beta_out_of_range_is_refused():
    v, w, h = _problem()
    with pytest.raises(ValueError, match="beta must be in"):
        beta_nmf(v, w, h, 1, 3.0)


def test_shingle_stacks_consecutive_frames_and_unshingle_inverts_it():
    v = torch.rand(2, 5, 7)  # (batch, bins, frames)
    s = shingle(v, 3, pad=False)
    assert s.shape == (2, 15, 5)
    torch.testing.assert_close(s[:, 5:10, 2], v[:, :, 3])  # window 2, offset 1: frame 3
    padded = shingle(v, 3, pad=True)
    assert padded.shape == (2, 15, 9)
    torch.testing.assert_close(unshingle(padded, 3, 7), v)
    torch.testing.assert_close(unshingle(shingle(v, 1, pad=True), 1, 7), v)  # context 1: no change
    with pytest.raises(ValueError, match="at least 4 frames"):
        shingle(v[..., :3], 4, pad=False)


def test_an_l1_penalty_shrinks_the_activations_and_zero_changes_nothing():
    v, w, h = _problem(seed=2, r=6)
    _, plain = beta_nmf(v, w, h, 50, 0.5, update_dictionary=False)
    _, zero = beta_nmf(v, w, h, 50, 0.5, update_dictionary=False, sparsity=0.0)
    assert torch.equal(plain, zero)
    _, sparse = beta_nmf(v, w, h, 50, 0.5, update_dictionary=False, sparsity=2 * float(v.mean()))
    assert sparse.sum() < 0.9 * plain.sum()
    per_item = torch.tensor([0.0, 2 * float(v.mean())]).reshape(2, 1, 1)  # one weight per item of a batch
    _, both = beta_nmf(torch.stack([v, v]), w, torch.stack([h, h]), 50, 0.5, update_dictionary=False,
                       sparsity=per_item)
    torch.testing.assert_close(both, torch.stack([plain, sparse]))
