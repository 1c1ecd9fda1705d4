"""Resuming an overlap-add job per batch: from the batch after the last save, with an uninterrupted run's output."""
import pytest
import torch

from priorsep.dsp.chunk_state import resumable
from priorsep.dsp.overlap_add import overlap_add


class Noisy:
    """A random separator ``(N, L) -> (N, 2, L)`` that can be made to fail on its ``fail_at``-th call."""

    def __init__(self, generator, fail_at=None):
        self.generator, self.fail_at, self.calls = generator, fail_at, 0

    def __call__(self, x):
        self.calls += 1
        if self.calls == self.fail_at:
            raise KeyboardInterrupt
        noise = torch.randn(x.shape, generator=self.generator)
        return torch.stack([x + noise, -noise], dim=1)


MIXES = torch.randn(2, 5000, generator=torch.Generator().manual_seed(0))


def run(fail_at=None, path=None, key="job", every=0.0):
    sep = Noisy(torch.Generator().manual_seed(7), fail_at)
    if path is None:
        return overlap_add(sep, MIXES, 512, batch=3, generator=sep.generator), sep.calls
    with resumable(path, key, every=every):
        return overlap_add(sep, MIXES, 512, batch=3, generator=sep.generator), sep.calls


def test_an_interrupted_job_resumes_after_its_saved_batches_with_the_same_output(tmp_path):
    whole, n_batches = run()
    state = tmp_path / "partial.pt"
    with pytest.raises(KeyboardInterrupt):
        run(fail_at=4, path=state)
    assert state.is_file()  # three batches saved
    resumed, calls = run(path=state)
    assert calls == n_batches - 3
    torch.testing.assert_close(resumed, whole, rtol=0, atol=0)
    assert not state.exists()  # removed once the job finished


def test_a_state_of_another_job_is_not_resumed(tmp_path):
    whole, n_batches = run()
    state = tmp_path / "partial.pt"
    with pytest.raises(KeyboardInterrupt):
        run(fail_at=4, path=state, key="another input")
    out, calls = run(path=state, key="job")
    assert calls == n_batches
    torch.testing.assert_close(out, whole, rtol=0, atol=0)


def test_saves_wait_for_the_interval(tmp_path):
    state = tmp_path / "partial.pt"
    with pytest.raises(KeyboardInterrupt):
        run(fail_at=4, path=state, every=3600.0)
    assert not state.exists()


def test_batches_draw_their_own_seeds_and_the_first_draws_as_given():
    gen = torch.Generator().manual_seed(7)
    first = Noisy(gen)(MIXES[:1, :512])
    out, _ = run()
    # the first chunk (hann-weighted, alone at the start) carries the first batch's draw from seed 7 as given
    assert torch.allclose(out[0, 1, :8], first[0, 1, :8], atol=1e-6)
    # every later batch starts from a seed of its own (its index's), not from where the batch before left off
    sep = Noisy(torch.Generator().manual_seed(7))
    calls = []

    def spy(x):
        calls.append(sep.generator.initial_seed())
        return sep(x)

    overlap_add(spy, MIXES, 512, batch=3, generator=sep.generator)
    assert calls[0] == 7 and len(set(calls)) == len(calls)


def test_nested_jobs_do_not_take_the_state(tmp_path):
    state = tmp_path / "partial.pt"
    inner_calls = []

    def outer(x):
        inner = overlap_add(lambda y: (inner_calls.append(1), y[:, None])[1], x, 256, batch=1)
        return torch.cat([inner, inner], dim=1)

    with pytest.raises(KeyboardInterrupt), resumable(state, "job", every=0.0):
        n = [0]

        def failing(x):
            n[0] += 1
            if n[0] == 3:
                raise KeyboardInterrupt
            return outer(x)

        overlap_add(failing, MIXES, 512, batch=3)
    saved = torch.load(state, weights_only=True)
    assert saved["batches"] == 2 and saved["out"].shape == (2, 2, 5000)
