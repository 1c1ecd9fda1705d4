import numpy as np
import pytest
import torch

from priorsep.data.toy import toy_eval_set
from priorsep.evaluation.benchmark import si_sdri_per_mix
from priorsep.evaluation.metrics import bss_eval, median_over_items, si_sdr, si_sdr_improvement
from priorsep.evaluation.oracle import ideal_ratio_mask, mixture_as_estimate
from priorsep.mixing import mix, mixing_weights


def _noise_at_snr(ref, snr_db, rng):
    noise = rng.standard_normal(ref.shape)
    noise -= noise.mean()
    noise *= np.sqrt(np.sum((ref - ref.mean()) ** 2) / np.sum(noise**2) / 10 ** (snr_db / 10))
    return noise


def test_si_sdr_exact_copy_is_very_high():
    ref = np.random.default_rng(0).standard_normal(4000).astype(np.float32)
    assert si_sdr(ref, ref) > 100
    assert si_sdr(0.37 * ref, ref) > 100
    assert si_sdr(ref + 3.0, ref) > 100  # zero-mean: a DC offset is not an error


@pytest.mark.parametrize("snr", [0.0, 20.0])
def test_si_sdr_matches_known_snr(snr):
    rng = np.random.default_rng(1)
    ref = rng.standard_normal(200_000)
    est = ref + _noise_at_snr(ref, snr, rng)
    assert abs(float(si_sdr(est, ref)) - snr) < 0.5


def test_si_sdr_scale_invariance_and_sign():
    rng = np.random.default_rng(2)
    ref = rng.standard_normal(5000)
    est = ref + _noise_at_snr(ref, 5.0, rng)
    base = float(si_sdr(est, ref))
    assert si_sdr(10.0 * est, ref) == pytest.approx(base, abs=1e-6)
    assert si_sdr(est, 0.01 * ref) == pytest.approx(base, abs=1e-6)
    # an unrelated signal is far below 0 dB; the silent estimate is very poor
    assert si_sdr(rng.standard_normal(5000), ref) < -10
    assert si_sdr(np.zeros(5000), ref) < -50


def test_si_sdr_broadcasts_and_accepts_torch():
    rng = np.random.default_rng(3)
    ref = rng.standard_normal((3, 1000))  # (K, T)
    est = ref[None] + 0.1 * rng.standard_normal((4, 3, 1000))  # (B, K, T)
    out = si_sdr(est, ref)
    assert out.shape == (4, 3)
    for b in range(4):
        for k in range(3):
            assert out[b, k] == pytest.approx(float(si_sdr(est[b, k], ref[k])))
    assert np.allclose(si_sdr(torch.from_numpy(est), torch.from_numpy(ref)), out)
    # wrong length does not broadcast
    with pytest.raises(ValueError):
        si_sdr(est, ref[:, :999])


def test_si_sdr_improvement_of_mix_is_zero():
    data = toy_eval_set(1, 4096)
    src, m = data.sources[0], data.mixes[0]
    imp = si_sdr_improvement(np.broadcast_to(m, src.shape), src, m)
    assert imp.shape == (4,)
    assert np.allclose(imp, 0.0, atol=1e-9)
    # the true sources improve on the mix
    assert np.all(si_sdr_improvement(src, src, m) > 50)


def test_mixture_as_estimate_remixes():
    rng = np.random.default_rng(4)
    weights = [0.5, 1.0, 2.0]
    sources = rng.standard_normal((2, 3, 800)).astype(np.float32)
    m = mix(sources, weights)  # (2, T)
    est = mixture_as_estimate(m, weights)
    assert est.shape == (2, 3, 800) and est.dtype == np.float32
    np.testing.assert_allclose(mix(est, weights), m, rtol=1e-5, atol=1e-6)
    # every estimate is the mix up to scale (float32 round-off only)
    assert np.all(si_sdr(est, m[:, None]) > 60)


def test_ideal_ratio_mask_on_toy_data():
    data = toy_eval_set(2, 16384)
    w = mixing_weights("mean", 4)
    for src, m in zip(data.sources, data.mixes):
        est = ideal_ratio_mask(src, w)
        assert est.shape == src.shape and est.dtype == src.dtype
        imp = si_sdr_improvement(est, src, m)
        assert np.all(imp > 5.0), imp
        np.testing.assert_allclose(mix(est, w), m, atol=1e-4)
        # the oracle beats the mixture-as-estimate baseline everywhere
        assert np.all(si_sdr(est, src) > si_sdr(mixture_as_estimate(m, w), src))
    # batched input gives the same as item by item
    batched = ideal_ratio_mask(data.sources, w)
    np.testing.assert_allclose(batched[1], ideal_ratio_mask(data.sources[1], w), atol=1e-6)


def _noise_sources(rate, seconds, seed=5):
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    # broadband, non-periodic references (BSSEval's filter fit is ill-posed for pure tones)
    return np.stack([rng.standard_normal(t.size) * (1 + 0.5 * np.sin(2 * np.pi * 0.7 * t)),
                     np.convolve(rng.standard_normal(t.size), np.ones(8) / 8, mode="same")])


def test_bss_eval_near_perfect_estimate():
    rate = 4000
    ref = _noise_sources(rate, 3.0)
    rng = np.random.default_rng(6)
    est = ref + 1e-3 * rng.standard_normal(ref.shape)
    out = bss_eval(ref, est, rate)
    assert out["windows"] == 3 and out["skipped_windows"] == 0
    for key in ("SDR", "SIR", "SAR", "ISR"):
        assert out[key].shape == (2,)
        assert np.all(out[key] > 30), (key, out[key])
    # leaking source 1 into estimate 0 is interference: SIR drops, SAR does not
    leaky = ref.copy()
    leaky[0] += 0.3 * ref[1]
    out2 = bss_eval(ref, leaky, rate)
    assert out2["SIR"][0] < 25 and out2["SIR"][0] < out["SIR"][0] - 20
    assert out2["SAR"][0] > 100
    # an exact estimate scores +inf SDR; that is a valid window, not a skipped one
    assert out2["skipped_windows"] == 0 and out2["SDR"][1] == np.inf


def test_bss_eval_skips_silent_windows():
    rate = 4000
    ref = _noise_sources(rate, 3.0)
    ref[0, rate : 2 * rate] = 0.0  # source 0 silent in the second 1 s window
    est = ref + 1e-2 * np.random.default_rng(7).standard_normal(ref.shape)
    out = bss_eval(ref, est, rate)
    assert out["windows"] == 3 and out["skipped_windows"] == 1
    assert np.all(np.isnan(out["framewise"]["SDR"][:, 1]))
    for key in ("SDR", "SIR", "SAR", "ISR"):
        assert np.all(np.isfinite(out[key]))
    assert np.all(out["SDR"] > 20)
    # an all-silent reference cannot be scored at all
    ref[1] = 0.0
    with pytest.raises(ValueError, match="all-zero"):
        bss_eval(ref, est, rate)
    with pytest.raises(ValueError, match="shaped"):
        bss_eval(ref, est[:, :-1], rate)


def test_median_over_items():
    vals = [np.array([1.0, np.nan]), np.array([3.0, 2.0]), np.array([2.0, 4.0])]
    np.testing.assert_allclose(median_over_items(vals), [2.0, 3.0])
    assert np.isnan(median_over_items([np.array([np.nan])]))[0]
    items = [{"SDR": np.array([1.0, 2.0]), "SIR": np.array([0.0, 0.0]), "skipped_windows": 1, "windows": 3},
             {"SDR": np.array([3.0, 4.0]), "SIR": np.array([2.0, 2.0]), "skipped_windows": 0, "windows": 3}]
    agg = median_over_items(items)
    np.testing.assert_allclose(agg["SDR"], [2.0, 3.0])
    assert agg["skipped_windows"] == 1 and agg["windows"] == 6


def test_windowed_si_sdri_scores_active_sources_in_windows_with_two_or_more():
    from priorsep.evaluation.metrics import windowed_si_sdri

    rng = np.random.default_rng(0)
    ref = rng.standard_normal((3, 1000)).astype(np.float32)
    ref[2, :600] = 0.0  # source 2 silent in the first windows
    ref[1, 800:] = 0.0
    ref[0, 800:] = 0.0  # from 800 on only source 2 plays
    m = ref.sum(0)
    est = ref + 0.1 * rng.standard_normal(ref.shape).astype(np.float32)
    w = windowed_si_sdri(est, ref, m, window=200, hop=100)
    assert w.shape == (9, 3)  # starts 0, 100, ..., 800
    assert np.isnan(w[0, 2]) and not np.isnan(w[0, :2]).any()  # silent source: not scored
    assert np.isnan(w[-1]).all()  # one active source: the window is dropped
    np.testing.assert_allclose(w[3, :2], si_sdr_improvement(est[:2, 300:500], ref[:2, 300:500], m[300:500]))
    assert windowed_si_sdri(est, ref, m, window=5000, hop=2500).shape == (1, 3)  # shorter than a window
    with pytest.raises(ValueError, match="hop"):
        windowed_si_sdri(est, ref, m, window=100, hop=200)


def test_si_sdri_per_mix_scores_each_source_by_name():
    data = toy_eval_set(3, 4096, seed=5)
    truth = iter(data.sources)
    perfect = si_sdri_per_mix(lambda m: dict(zip(data.names, next(truth))), data)
    assert perfect.shape == (3, 4) and (perfect > 60).all()
    swapped = iter(data.sources)  # the first two sources under each other's names
    scores = si_sdri_per_mix(lambda m: dict(zip(data.names[1::-1] + data.names[2:], next(swapped))), data)
    assert (scores[:, :2] < 0).all() and (scores[:, 2:] > 60).all()
    mixture = si_sdri_per_mix(lambda m: {n: m for n in data.names}, data)
    np.testing.assert_allclose(mixture, 0, atol=1e-3)  # the mix itself: no improvement
