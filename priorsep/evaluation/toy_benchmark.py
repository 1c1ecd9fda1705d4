"""The toy benchmark: fresh toy mixes, every method, one table (see :mod:`.benchmark`)."""
from __future__ import annotations

from ..data.toy import TOY_MIXING, TOY_SOURCES, toy_eval_set
from ..mixing import mixing_weights
from ..separator import Separator
from .benchmark import EvalSet, KeepFn, bench_table


def toy_benchmark_set(n: int = 8, length: int = 16384, seed: int = 2026) -> EvalSet:
    """``n`` fresh toy mixes of ``length`` samples (seed 2026 is held out from every training seed)."""
    data = toy_eval_set(n, length, seed)
    return EvalSet(data.sources, data.mixes, list(TOY_SOURCES), data.sample_rate, f"toy benchmark (seed {seed})")


def default_toy_prior_sets() -> list[str]:
    """The bundled prior sets for the toy sources: ``toy`` (flows) and ``toy-wavenet`` when present."""
    from ..priors.io import bundled_prior_sets

    return [name for name in ("toy", "toy-wavenet") if name in bundled_prior_sets()]


def default_toy_baselines() -> list[str]:
    """The bundled baselines trained on the toy data (``waveunet-toy``, ``factorgan-toy``) that exist."""
    from ..baselines.io import bundled_baselines

    return [name for name in ("waveunet-toy", "factorgan-toy") if name in bundled_baselines()]


def bench_toy(separators: list[Separator] | None = None, n: int = 8, length: int = 16384, seed: int = 2026,
              bss: bool = True, quiet: bool = False, samples: int = 1, keep: KeepFn | None = None) -> dict:
    """The toy table of ``separators`` (default: every bundled toy method, sampler seed 0) on ``n``
    fresh mixes of data seed ``seed`` (``samples`` > 1: posterior draws, :func:`.benchmark.benchmark_methods`;
    ``keep``: :func:`.benchmark.run_benchmark`)."""
    if separators is None:
        from ..api import benchmark_separators

        separators = benchmark_separators(default_toy_prior_sets(), default_toy_baselines())
    results = bench_table(toy_benchmark_set(n, length, seed), mixing_weights(TOY_MIXING, len(TOY_SOURCES)),
                          separators, bss=bss, quiet=quiet, samples=samples, keep=keep)
    results["seed"] = seed
    return results
