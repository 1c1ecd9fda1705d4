import numpy as np
import pytest
import scipy.signal
import torch

from priorsep.data.toy import TOY_SAMPLE_RATE, TOY_SOURCES, ToySourceCrops, oscillator, periodic_wave, toy_eval_set
from priorsep.mixing import mix, mixing_weights
from priorsep.schedule import geometric_sigmas, sample_training_sigmas


def test_eval_set_shapes_mean_mix_and_determinism():
    a = toy_eval_set(3, 1000, seed=5)
    b = toy_eval_set(3, 1000, seed=5)
    c = toy_eval_set(3, 1000, seed=6)
    assert a.sources.shape == (3, 4, 1000) and a.mixes.shape == (3, 1000) and a.sources.dtype == np.float32
    assert a.names == ("sine", "square", "sawtooth", "triangle") and a.sample_rate == 14700 == TOY_SAMPLE_RATE
    np.testing.assert_allclose(a.mixes, a.sources.mean(1), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(a.sources, b.sources)
    assert not np.array_equal(a.sources, c.sources)
    # item i depends only on (seed, i): a longer set starts with the same items
    np.testing.assert_array_equal(toy_eval_set(5, 1000, seed=5).sources[:3], a.sources)


@pytest.mark.parametrize("source", TOY_SOURCES)
def test_oscillator_is_periodic_with_integer_period_and_amplitude_range(source):
    for seed in range(20):
        x = oscillator(source, 4000, np.random.default_rng(seed))
        # the period is an integer number of samples: x[t + P] == x[t] for the smallest such P
        rng = np.random.default_rng(seed)
        key = 1.0 + 0.1 * rng.integers(0, 871)
        period = int(np.floor(TOY_SAMPLE_RATE / (440.0 * 2 ** ((key - 49) / 12))))
        assert 3 <= period <= 535
        peak = np.abs(x).max()
        assert peak <= 1.0 + 1e-6
        if period >= 50:  # short periods need not sample the waveform's extremes
            assert peak >= 0.75
        if period < 2000:
            np.testing.assert_allclose(x[period:], x[:-period], atol=1e-4)


def test_oscillator_shapes_match_scipy_definitions():
    rng = np.random.default_rng(0)
    x = oscillator("sawtooth", 3000, np.random.default_rng(0))
    key = 1.0 + 0.1 * rng.integers(0, 871)
    period = np.floor(TOY_SAMPLE_RATE / (440.0 * 2 ** ((key - 49) / 12)))
    phase, amp = rng.uniform(0, 2 * np.pi), rng.uniform(0.8, 1.0)
    np.testing.assert_allclose(x, amp * scipy.signal.sawtooth(2 * np.pi * np.arange(3000) / period + phase), atol=1e-6)


def test_periodic_wave_repeats_with_its_period_and_rejects_bad_input():
    x = periodic_wave("square", 5, 100, phase=0.3, amp=0.9)
    assert x.dtype == np.float32 and x.shape == (100,)
    np.testing.assert_array_equal(x[5:], x[:-5])
    np.testing.assert_allclose(np.abs(x), 0.9, rtol=1e-6)  # a sampled square only takes +-amp
    np.testing.assert_allclose(periodic_wave("sine", 8, 16), np.sin(2 * np.pi * np.arange(16) / 8), atol=1e-6)
    with pytest.raises(ValueError, match="period must be positive"):
        periodic_wave("sine", 0, 10)
    with pytest.raises(ValueError, match="unknown toy source"):
        periodic_wave("violin", 5, 10)


def test_unknown_source_is_an_error():
    with pytest.raises(ValueError, match="unknown toy source"):
        ToySourceCrops("violin")


def test_training_crops_are_deterministic_by_index():
    ds = ToySourceCrops("square", 256, seed=1)
    assert ds[7].shape == (256,)
    torch.testing.assert_close(ds[7], ToySourceCrops("square", 256, seed=1)[7])
    assert not torch.equal(ds[7], ds[8])


def test_mixing_weights_and_mix_agree_for_numpy_and_torch():
    s = np.random.default_rng(0).standard_normal((2, 4, 10)).astype(np.float32)
    w = mixing_weights("mean", 4)
    np.testing.assert_allclose(mix(s, w), s.mean(1), rtol=1e-6)
    torch.testing.assert_close(mix(torch.from_numpy(s), w), torch.from_numpy(s).mean(1))
    assert mixing_weights("sum", 3) == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="mixing weights"):
        mix(s, [1.0, 1.0])
    with pytest.raises(ValueError, match="unknown mixing"):
        mixing_weights("median", 2)


def test_sigma_schedule_and_training_draws():
    s = geometric_sigmas(1.0, 0.01, 10)
    assert s[0] == pytest.approx(1.0) and s[-1] == pytest.approx(0.01) and torch.all(s[1:] < s[:-1])
    ratios = s[1:] / s[:-1]
    torch.testing.assert_close(ratios, ratios[0].expand_as(ratios))
    d = sample_training_sigmas(4000, 0.01, 1.0, generator=torch.Generator().manual_seed(0))
    assert d.min() >= 0.01 - 1e-6 and d.max() <= 1.0 + 1e-6
    assert (d < 0.02).float().mean() > 0.25  # the low-sigma quarter plus its share of the rest
    with pytest.raises(ValueError):
        geometric_sigmas(0.01, 1.0, 5)


def test_minimum_norm_split_remixes_exactly_for_numpy_and_torch():
    from priorsep.mixing import minimum_norm_split

    m = np.random.default_rng(1).standard_normal((3, 50)).astype(np.float32)
    w = [0.5, 0.25, 1.0]
    s = minimum_norm_split(m, w)
    assert s.shape == (3, 3, 50) and s.dtype == np.float32
    np.testing.assert_allclose(mix(s, w), m, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(mix(minimum_norm_split(torch.from_numpy(m), w), w), torch.from_numpy(m))
    with pytest.raises(ValueError, match="all zero"):
        minimum_norm_split(m, [0.0, 0.0])
