"""NMF dictionaries: separation by fixed dictionaries and Wiener-like masks (exact where the sources'
spectra are disjoint, mixing back to the input, deterministic), checkpoints, CLI training."""
import numpy as np
import pytest
import torch

from priorsep.baselines import load_baseline, save_baseline
from priorsep.baselines.nmf import NMFSeparator
from priorsep.data.toy import TOY_SOURCES
from priorsep.dsp.stft import stft
from priorsep.errors import ConfigError
from priorsep.evaluation.metrics import si_sdr
from priorsep.mixing import mix

WEIGHTS = [0.25] * 4


def tiny(**kw) -> NMFSeparator:
    cfg = dict(sources=list(TOY_SOURCES), sample_rate=14700, mix_weights=WEIGHTS, n_fft=256, hop=64, rank=3,
               iterations=30)
    model = NMFSeparator({**cfg, **kw})
    model.dictionaries.copy_(torch.rand(model.dictionaries.shape, generator=torch.Generator().manual_seed(0)) + 0.01)
    return model


def _tones(freqs, length=8000, rate=14700):
    t = torch.arange(length) / rate
    return torch.stack([torch.sin(2 * torch.pi * f * t) * (1 + 0.5 * torch.sin(2 * torch.pi * 3 * t * (k + 1)))
                        for k, f in enumerate(freqs)])


@pytest.mark.parametrize("context", [1, 3])
def test_sources_with_disjoint_spectra_are_recovered(context):
    """Each dictionary is its source's own spectrum (over ``context`` frames): the masks are near 0/1 and
    the estimates near exact."""
    sources = _tones([300.0, 1200.0, 3000.0, 6000.0])
    model = tiny(rank=1, iterations=100, context=context)
    assert model.dictionaries.shape == (4, context * 129, 1)
    for k in range(4):
        shape = stft(sources[k], 256, 64).abs().mean(-1).repeat(context)
        model.dictionaries[k, :, 0] = shape / shape.sum()
    est = model.separate_tensor(mix(sources, WEIGHTS)[None, None])[0, :, 0]
    assert est.shape == sources.shape
    scores = [si_sdr(est[k].numpy(), sources[k].numpy()) for k in range(4)]
    assert min(scores) > 20, scores


@pytest.mark.parametrize("context, sparsity", [(1, 0.0), (4, 0.3)])
def test_estimates_mix_back_to_the_input_and_repeat_exactly(context, sparsity):
    model = tiny(context=context, sparsity=sparsity)
    x = torch.randn(2, 1, 3000)
    est = model.separate_tensor(x)
    assert est.shape == (2, 4, 1, 3000)
    torch.testing.assert_close(mix(est.transpose(1, 2), WEIGHTS), x, atol=1e-4, rtol=1e-4)
    assert torch.equal(model.separate_tensor(x), est)
    # one mix alone gives what it gave in the batch
    torch.testing.assert_close(model.separate_tensor(x[1:]), est[1:], atol=1e-5, rtol=1e-5)


def test_bad_settings_and_short_mixes_are_config_errors():
    with pytest.raises(ConfigError, match="beta in"):
        tiny(beta=3.0)
    with pytest.raises(ConfigError, match="hop"):
        tiny(hop=0)
    with pytest.raises(ConfigError, match="context >= 1"):
        tiny(context=0)
    with pytest.raises(ConfigError, match="sparsity >= 0"):
        tiny(sparsity=-0.1)
    with pytest.raises(ConfigError, match="longer than 128 samples"):
        tiny().separate_tensor(torch.zeros(1, 1, 100))


def test_save_load_round_trip(tmp_path):
    model = tiny(context=2)
    save_baseline(model, tmp_path / "nmf")
    loaded = load_baseline(tmp_path / "nmf")
    assert isinstance(loaded, NMFSeparator) and loaded.paired_items == 0
    assert loaded.label == "NMF dictionaries, 2 frames" and tiny().label == "NMF dictionaries"
    x = np.random.default_rng(0).standard_normal(3000).astype(np.float32)
    a, b = model.separate(x), loaded.separate(x)
    assert all(np.array_equal(a[n], b[n]) for n in TOY_SOURCES)


def test_float16_storage_halves_the_file_and_separates_alike(tmp_path):
    wide, half = tiny(rank=16), tiny(rank=16, storage="float16")
    half.dictionaries.copy_(wide.dictionaries)
    save_baseline(wide, tmp_path / "wide")
    save_baseline(half, tmp_path / "half")
    assert (tmp_path / "half.pt").stat().st_size < 0.6 * (tmp_path / "wide.pt").stat().st_size
    loaded = load_baseline(tmp_path / "half")
    assert loaded.dictionaries.dtype == torch.float16 and torch.equal(loaded.dictionaries, half.dictionaries)
    x = torch.randn(1, 1, 3000)
    a, b = wide.separate_tensor(x), loaded.separate_tensor(x)
    assert b.dtype == torch.float32
    assert float((a - b).pow(2).sum() / a.pow(2).sum()) < 1e-4
    with pytest.raises(ConfigError, match="storage must be one of"):
        tiny(storage="int8")
