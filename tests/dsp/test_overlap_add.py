"""Overlap-add over chunks: exact reconstruction with an identity separator, bounded batches."""
import pytest
import torch

from priorsep.errors import ConfigError
from priorsep.dsp.overlap_add import chunk_starts, overlap_add


@pytest.mark.parametrize("t,chunk,multiple", [(1000, 128, 1), (1000, 128, 16), (4096, 1024, 64), (129, 128, 1),
                                              (100, 128, 16), (1, 64, 8), (5000, 700, 7)])
@pytest.mark.parametrize("batch,overlap", [(1, 0.5), (3, 0.5), (64, 0.5), (3, 0.25), (3, 0.0), (3, 0.9)])
def test_identity_separator_reproduces_its_input_exactly(t, chunk, multiple, batch, overlap):
    mixes = torch.randn(2, t, dtype=torch.float64, generator=torch.Generator().manual_seed(t))
    seen = []

    def identity(x):
        seen.append(x.shape)
        assert x.shape[-1] % multiple == 0 and x.shape[0] <= batch
        return torch.stack([x, -2 * x], 1)  # two "sources"

    out = overlap_add(identity, mixes, chunk, multiple, batch, overlap=overlap)
    assert out.shape == (2, 2, t)
    torch.testing.assert_close(out[:, 0], mixes, rtol=0, atol=1e-12)
    torch.testing.assert_close(out[:, 1], -2 * mixes, rtol=0, atol=1e-12)


@pytest.mark.parametrize("t", [20, 511, 512, 3000])
def test_min_length_gives_a_short_mix_the_whole_window(t):
    """A separator that needs at least 512 samples (e.g. an STFT of n_fft 1024) sees chunks of at
    least 512 samples; the output is still the identity, cropped to the mix."""
    mixes = torch.randn(1, t, dtype=torch.float64, generator=torch.Generator().manual_seed(t))

    def needs_512(x):
        assert x.shape[-1] >= 512
        return x[:, None]

    out = overlap_add(needs_512, mixes, 512, min_length=512)
    assert out.shape == (1, 1, t)
    torch.testing.assert_close(out[:, 0], mixes, rtol=0, atol=1e-12)


def test_chunks_cover_the_signal_with_half_overlap():
    length, starts = chunk_starts(10000, 1024, 16)
    assert length == 1024 and starts[0] == 0 and starts[-1] + length == 10000
    assert all(b - a == 512 for a, b in zip(starts[:-2], starts[1:-1]))
    assert chunk_starts(100, 1024, 16) == (112, [0])  # short: one chunk, rounded up to the multiple


@pytest.mark.parametrize("overlap,hop", [(0.25, 768), (0.0, 1024), (0.9, 96)])
def test_the_overlap_sets_the_hop(overlap, hop):
    length, starts = chunk_starts(10000, 1024, 16, overlap)
    assert starts[0] == 0 and starts[-1] + length == 10000
    assert all(b - a == hop for a, b in zip(starts[:-2], starts[1:-1]))
    with pytest.raises(ConfigError, match="overlap"):
        chunk_starts(10000, 1024, 16, 1.0)


def test_memory_is_bounded_by_the_batch_not_the_length():
    """A long signal goes through the separator a few chunks at a time."""
    calls = []

    def sep(x):
        calls.append(x.shape[0])
        return x[:, None]

    overlap_add(sep, torch.randn(1, 200_000), 4096, batch=4)
    assert max(calls) == 4 and sum(calls) == len(chunk_starts(200_000, 4096)[1])


def test_a_seam_would_show_up():
    """Without the window normalisation a constant signal would ripple: check it does not."""
    out = overlap_add(lambda x: x[:, None], torch.ones(1, 3000), 256, batch=5)
    assert torch.all((out - 1).abs() < 1e-6)


def test_bad_arguments_raise():
    with pytest.raises(ConfigError, match=r"\(B, T\)"):
        overlap_add(lambda x: x[:, None], torch.ones(3000), 256)
    with pytest.raises(ConfigError, match="batch"):
        overlap_add(lambda x: x[:, None], torch.ones(1, 3000), 256, batch=0)
    with pytest.raises(ConfigError):
        chunk_starts(0, 256)
