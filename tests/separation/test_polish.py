"""Swap-and-refine polishing (priorsep.separation.polish) and its wiring into langevin_separate."""
import numpy as np
import pytest
import torch

from priorsep.errors import ConfigError
from priorsep.mixing import mix
from priorsep.separation.langevin import _log_densities
from priorsep import langevin_separate
from priorsep.separation.polish import best_pair_swaps, hard_frequency_split, move_to_slots, polish, slot_ratings
from priorsep.evaluation.metrics import si_sdr

from ..conftest import zero_mean_set


def truth_and_cycle(weights, t=4096):
    """Sources of std 1, 0.3, 0.1 (what zero-mean priors of variance 1, 0.09, 0.01 want) and the
    same sources moved one slot round a cycle, rescaled so both meet the same mix."""
    g = torch.Generator().manual_seed(0)
    truth = torch.randn(1, 3, t, generator=g, dtype=torch.float64) * torch.tensor([1.0, 0.3, 0.1])[:, None]
    w = torch.tensor(weights, dtype=torch.float64)
    return truth, move_to_slots(truth, (1, 2, 0), w), w


@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0), (0.5, 0.25, 1.0)])
def test_a_cycle_of_three_is_undone_in_two_rounds_and_not_in_one(weights):
    """A pair swap fixes at most one source of a 3-cycle per round; the second round fixes the rest.
    With an identity refinement the answer is exact, and the mix is met all along."""
    priors = zero_mean_set((1.0, 0.09, 0.01), weights)
    truth, cycled, w = truth_and_cycle(weights)
    m = mix(truth, priors.weights)
    np.testing.assert_allclose(mix(cycled, priors.weights), m, atol=1e-12)

    def run(rounds):
        return polish(m, cycled.clone(), w, rounds=rounds, n_swaps=3, refine=lambda s, _: s.clone(),
                      log_densities=lambda s, sg: _log_densities(priors, s, sg), sigma=0.01)

    one, two = run(1), run(2)
    assert not torch.allclose(one, truth)
    assert (one - truth).pow(2).sum() < (cycled - truth).pow(2).sum()  # the first round made progress
    torch.testing.assert_close(two, truth)
    torch.testing.assert_close(mix(two, priors.weights), m)


def test_a_right_estimate_is_left_alone_and_refined_once():
    """No swap beats the right estimate; the refinement still runs once on it (and only on it)."""
    priors = zero_mean_set((1.0, 0.09, 0.01), (1.0, 1.0, 1.0))
    truth, _, w = truth_and_cycle((1.0, 1.0, 1.0))
    calls = []

    def refine(s, mixes):
        calls.append(s.shape[0])
        return s.clone()

    out = polish(mix(truth, priors.weights), truth.clone(), w, rounds=3, n_swaps=2, refine=refine,
                 log_densities=lambda s, sg: _log_densities(priors, s, sg), sigma=0.01)
    torch.testing.assert_close(out, truth)
    assert calls == [1, 2]  # the estimate, then its two best swaps, which lose: no further round


def test_slot_ratings_and_best_swaps():
    """rated[:, j, i] is prior j on estimate i (moved and rescaled); the best swap is the one that fixes the order."""
    priors = zero_mean_set((1.0, 0.01), (0.5, 1.0))
    w = torch.tensor(priors.weights, dtype=torch.float64)
    s = torch.randn(2, 2, 512, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    rated = slot_ratings(s, w, lambda x, sg: _log_densities(priors, x, sg), 0.1)
    for j in range(2):
        for i in range(2):
            moved = s[:, i] * w[i] / w[j]
            torch.testing.assert_close(rated[:, j, i], priors.priors[j].log_prob(moved, 0.1))
    assert best_pair_swaps(rated[0], 5) == [(1, 0)]
    assert len(best_pair_swaps(torch.zeros(4, 4), 10)) == 6
    rated = torch.zeros(3, 3)
    rated[0, 2] = rated[2, 0] = 5.0  # swapping slots 0 and 2 gains 10
    rated[1, 2] = 1.0  # swapping 1 and 2 gains 1, swapping 0 and 1 nothing
    assert best_pair_swaps(rated, 3) == [(2, 1, 0), (0, 2, 1), (1, 0, 2)]
    assert best_pair_swaps(rated, 1) == [(2, 1, 0)]


def test_langevin_separate_with_polish_meets_the_mix_and_repeats_by_seed():
    priors = zero_mean_set((1.0, 0.09, 0.01), (1.0, 1.0, 1.0))
    truth, _, _ = truth_and_cycle((1.0, 1.0, 1.0), t=2048)
    m = mix(truth, priors.weights)[0].float().numpy()
    settings = dict(space="mask", sigma_max=0.2, sigma_min=0.01, n_levels=2, steps_per_level=2, mask_n_fft=256,
                    mask_hop=64, polish_rounds=2, polish_sigma=0.05, polish_levels=2, polish_mask_steps=1,
                    polish_signal_steps=2)
    a = langevin_separate(m, priors, seed=5, **settings)
    b = langevin_separate(m, priors, seed=5, **settings)
    est = np.stack([a[n] for n in priors.names])
    np.testing.assert_allclose(est.sum(0), m, atol=1e-4)
    for n in priors.names:
        np.testing.assert_array_equal(a[n], b[n])
    # signal-space search, and a refinement without its mask stage, go through the same path
    c = langevin_separate(m, priors, seed=5, n_levels=2, steps_per_level=2, sigma_max=0.2, polish_rounds=1,
                          polish_levels=2, polish_mask_steps=0, polish_signal_steps=2, polish_split=True,
                          mask_n_fft=256, mask_hop=64)
    np.testing.assert_allclose(np.stack([c[n] for n in priors.names]).sum(0), m, atol=1e-4)


@pytest.mark.parametrize("bad, msg", [
    (dict(polish_rounds=-1), "polish_rounds"),
    (dict(polish_rounds=1, polish_sigma=0.001), "polish_sigma"),
    (dict(polish_levels=0), "polish_levels"),
    (dict(polish_rounds=1, polish_mask_steps=1, mask_lr=-1.0), "mask_lr"),
    (dict(finish_steps=-1), "finish_steps"),
    (dict(polish_rounds=1, polish_split_swap=True), "polish_split_swap"),
    (dict(polish_rounds=1, polish_split=True, polish_swaps=0, polish_split_swap=True), "polish_split_swap"),
    (dict(finish_steps=2, polish_sigma=0.001), "polish_sigma"),
    (dict(finish_steps=2, polish_mask_steps=1, mask_n_fft=100), "mask_n_fft"),
    (dict(polish_rounds=1, polish_mask_steps=0, polish_split=True, mask_hop=0), "mask_hop"),
])
def test_bad_polish_settings_are_rejected(bad, msg):
    priors = zero_mean_set((1.0, 0.01), (1.0, 1.0))
    with pytest.raises(ConfigError, match=msg):
        langevin_separate(np.random.default_rng(0).standard_normal(2048).astype(np.float32), priors, seed=0,
                          n_levels=1, steps_per_level=1, **bad)


def test_finish_refines_the_final_estimate_once_with_its_own_step_count(monkeypatch):
    """``finish_steps`` runs the refinement once more on what the search (and polish) returned, with
    ``finish_steps`` signal-space steps per level, drawing on the same generator afterwards."""
    import priorsep.separation.langevin as lang
    from priorsep.separation.config import SamplerConfig, make_config
    from priorsep.seeding import seeded_generator

    priors = zero_mean_set((1.0, 0.09, 0.01), (1.0, 1.0, 1.0))
    truth, _, _ = truth_and_cycle((1.0, 1.0, 1.0), t=2048)
    mixes = mix(truth, priors.weights).float()
    base = dict(space="mask", sigma_max=0.2, sigma_min=0.01, n_levels=2, steps_per_level=2, mask_n_fft=256,
                mask_hop=64, polish_sigma=0.05, polish_levels=2, polish_mask_steps=1, polish_signal_steps=2)
    calls = []
    inner = lang._anneal
    monkeypatch.setattr(lang, "_anneal",
                        lambda p, m, c, *a, **k: calls.append(c.schedule.steps_per_level) or inner(p, m, c, *a, **k))

    with torch.no_grad():
        g = seeded_generator(3)
        plain = lang.anneal(priors, mixes, SamplerConfig().updated(**base), g)
        assert calls == []  # a mask search without refinements never runs signal-space Langevin
        config = make_config({**base, "finish_steps": 3})
        by_hand = lang._refiner(priors, config.updated(polish_signal_steps=3), g,
                                lambda s, sg: lang._scores(priors, s, sg),
                                lambda s, sg: lang._log_densities(priors, s, sg)
                                )(plain, mixes)
        calls.clear()
        finished = lang.anneal(priors, mixes, config, seeded_generator(3))
        assert calls == [3]
        torch.testing.assert_close(finished, by_hand)
        assert not torch.allclose(finished, plain)
        torch.testing.assert_close(mix(finished, priors.weights), mixes, atol=1e-4, rtol=0)
        calls.clear()
        lang.anneal(priors, mixes, make_config({**base, "finish_steps": 3, "polish_rounds": 1}), seeded_generator(3))
        assert calls[0] == 2 and calls[-1] == 3 and set(calls[1:-1]) <= {2}  # polish's refinements, then the finish


def two_tones_and_a_blend(t=8192):
    """Two stationary tones (440 and 300 Hz at 8 kHz), weights (1, 0.5), and a blend of them that
    meets the same mix: slot 0 holds 55 % of tone 0's share of the mix and 45 % of tone 1's, slot 1
    the rest (so each slot still holds the larger part of its own tone)."""
    time = torch.arange(t, dtype=torch.float64) / 8000
    truth = torch.stack([torch.sin(2 * torch.pi * 440 * time), torch.sin(2 * torch.pi * 300 * time + 1)])[None]
    w = torch.tensor([1.0, 0.5], dtype=torch.float64)
    m = mix(truth, w.tolist())
    b0 = 0.55 * truth[:, 0] + 0.45 * 0.5 * truth[:, 1]
    return truth, torch.stack([b0, (m - w[0] * b0) / w[1]], 1), w, m


def test_hard_frequency_split_undoes_a_blend_of_stationary_tones():
    truth, blend, w, m = two_tones_and_a_blend()
    torch.testing.assert_close(mix(blend, w.tolist()), m)
    out = hard_frequency_split(blend, m, w, 1024, 256)
    torch.testing.assert_close(mix(out, w.tolist()), m)
    for k in range(2):
        assert si_sdr(blend[0, k].numpy(), truth[0, k].numpy()) < 10
        assert si_sdr(out[0, k].numpy(), truth[0, k].numpy()) > 25


def test_polish_tries_the_split_as_one_more_candidate():
    """With a density peaked at the truth and an identity refinement, the blend survives the swaps
    alone and is replaced by the split when polish is given one; the refinement sees swaps + 1."""
    truth, blend, w, m = two_tones_and_a_blend()
    density = lambda s, sg: -(s - truth).pow(2).sum(-1)  # noqa: E731  (N, K)
    sizes = []

    def refine(s, _):
        sizes.append(s.shape[0])
        return s.clone()

    split = lambda s, mixes: hard_frequency_split(s, mixes, w, 1024, 256)  # noqa: E731
    kept = polish(m, blend.clone(), w, rounds=2, n_swaps=1, refine=refine, log_densities=density, sigma=0.01)
    torch.testing.assert_close(kept, blend)
    sizes.clear()
    fixed = polish(m, blend.clone(), w, rounds=2, n_swaps=1, refine=refine, log_densities=density, sigma=0.01,
                   split=split)
    torch.testing.assert_close(fixed, split(blend, m))
    assert sizes == [1, 2, 2]  # the estimate; then a swap and the split, twice (the second round's lose)


def test_polish_with_the_split_alone_skips_the_slot_ratings():
    truth, blend, w, m = two_tones_and_a_blend()
    batches = []

    def density(s, sg):
        batches.append(s.shape[0])
        return -(s - truth).pow(2).sum(-1)

    out = polish(m, blend.clone(), w, rounds=2, n_swaps=0, refine=lambda s, _: s.clone(), log_densities=density,
                 sigma=0.01, split=lambda s, mixes: hard_frequency_split(s, mixes, w, 1024, 256))
    assert si_sdr(out[0, 1].numpy(), truth[0, 1].numpy()) > 25
    assert batches == [1, 1, 1]  # the estimate, then one split per round: no K ratings of slots


def test_split_swap_cleans_a_right_swap_that_loses_to_a_clean_wrong_estimate():
    """The estimate is a swapped blend. Its swap is right but blended, and a density that rates
    cleanliness above the assignment (the swapped truth costs only delta) prefers the split of the
    estimate, the clean swapped truth. Only the split of the refined swap reaches the truth in one round."""
    truth, blend, w, m = two_tones_and_a_blend()
    swapped_truth = move_to_slots(truth, (1, 0), w)
    delta = 0.01 * (blend - truth).pow(2).sum()

    def density(s, sg):  # (N, K), its sum over K is the total that polish compares
        right, wrong = (s - truth).pow(2).sum((1, 2)), (s - swapped_truth).pow(2).sum((1, 2)) + delta
        return -torch.minimum(right, wrong)[:, None].expand(-1, 2) / 2

    sizes = []

    def refine(s, _):
        sizes.append(s.shape[0])
        return s.clone()

    split = lambda s, mixes: hard_frequency_split(s, mixes, w, 1024, 256)  # noqa: E731
    est = move_to_slots(blend, (1, 0), w)
    common = dict(rounds=1, n_swaps=1, refine=refine, log_densities=density, sigma=0.01, split=split)
    plain = polish(m, est.clone(), w, **common)
    assert si_sdr(plain[0, 0].numpy(), swapped_truth[0, 0].numpy()) > 25  # the clean wrong one won
    sizes.clear()
    fixed = polish(m, est.clone(), w, **common, split_swap=True)
    assert sizes == [1, 2, 1]  # the estimate; its swap and its split; the split of the refined swap
    for k in range(2):
        assert si_sdr(fixed[0, k].numpy(), truth[0, k].numpy()) > 25
    torch.testing.assert_close(mix(fixed, w.tolist()), m)
    with pytest.raises(ValueError, match="split_swap"):
        polish(m, est.clone(), w, **{**common, "n_swaps": 0}, split_swap=True)
    with pytest.raises(ValueError, match="split_swap"):  # one source: no pair to swap, whatever n_swaps says
        polish(m, est[:, :1].clone(), w[:1], **common, split_swap=True)
