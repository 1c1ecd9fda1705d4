"""Teacher estimates for an amortised posterior: the Langevin separator run on *mixtures only*.

The wake update of reweighted wake-sleep fits q(s | m) to posterior samples. The slow per-mix
Langevin search is such a sampler, and it needs only the mixture and the frozen priors, so its
estimates can teach the one-pass encoder without any ground-truth stem. Each mixture's estimates
are rated by the priors (log density at the set's smallest noise level): the search either finds
the mode or fails far below it, and the rating tells which, again without stems.

Files: ``DIR/mix_00000.npz`` with ``mix (T,)``, ``sources (K, T)`` (the teacher's estimates),
``log_density (K, K)`` (nats per sample of estimate j under prior i; the diagonal is each source
under its own prior), ``seconds``; one file per mixture, written atomically, so an interrupted run
resumes where it stopped. ``DIR/teacher.json`` records the priors, settings and data description.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..checkpoint import atomic_json_save, atomic_npz_save
from ..errors import ConfigError, DataError
from ..mixing import mix as mix_sources
from ..priors.io import PriorSet
from ..api import load_separator


def teacher_path(folder: str | Path, i: int) -> Path:
    return Path(folder) / f"mix_{i:05d}.npz"


@torch.no_grad()
def rate_sources(priors: PriorSet, sources: np.ndarray, sigma: float) -> np.ndarray:
    """``(K, K)`` log densities in nats per sample: ``[i, j]`` is source estimate ``j`` under prior ``i``."""
    x = torch.from_numpy(np.ascontiguousarray(sources, dtype=np.float32))
    return np.stack([p.log_prob(x, sigma).numpy() / x.shape[-1] for p in priors])


def write_teacher_labels(priors: PriorSet, mixes, folder: str | Path, n: int, *, start: int = 0,
                         quiet: bool = False, description: str = "", **settings) -> list[Path]:
    """Run the annealed search of ``priors`` (method ``"langevin"``, whatever the set's default) on
    ``mixes[start .. start + n - 1]`` (``(T,)`` tensors or arrays, mixtures only) and store each result in
    ``folder``; files already there are kept (resume).
    ``settings`` override the prior set's Langevin settings. Returns the files, in order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sigma = float(min(p.config.get("sigma_min", 0.01) for p in priors))
    meta = dict(priors=str(priors.path) if priors.path else None, sources=list(priors.names),
                weights=list(priors.weights), sample_rate=priors.sample_rate, settings=settings,
                rating_sigma=sigma, mixtures=description or (mixes.describe() if hasattr(mixes, "describe") else ""))
    atomic_json_save(meta, folder / "teacher.json")
    paths = []
    for i in tqdm(range(start, start + n), disable=quiet, desc="teacher"):
        path = teacher_path(folder, i)
        paths.append(path)
        if path.is_file():
            continue
        m = np.asarray(mixes[i], dtype=np.float32)
        t0 = time.perf_counter()
        est = load_separator(priors, "langevin", seed=i, **settings).separate(m)
        seconds = time.perf_counter() - t0
        sources = np.stack([est[name] for name in priors.names]).astype(np.float32)
        dens = rate_sources(priors, sources, sigma)
        atomic_npz_save(path, mix=m, sources=sources, log_density=dens, seconds=np.float64(seconds))
    return paths


def load_teacher_labels(folder: str | Path, names: list[str] | None = None) -> list[dict]:
    """Every ``mix_*.npz`` in ``folder`` as a dict of arrays, in file order; with ``names``, checks
    that the estimates are of these sources (count, and ``teacher.json``'s names where present)."""
    files = sorted(Path(folder).glob("mix_*.npz"))
    if not files:
        raise DataError(f"no teacher estimates (mix_*.npz) in {folder}; write them with write_teacher_labels")
    out = []
    for f in files:
        with np.load(f) as z:
            out.append({k: z[k] for k in z.files})
    if names is not None:
        meta = Path(folder) / "teacher.json"
        written = json.loads(meta.read_text()).get("sources") if meta.is_file() else None
        if out[0]["sources"].shape[0] != len(names) or (written and list(written) != list(names)):
            raise ConfigError(f"teacher estimates in {folder} are of {written or out[0]['sources'].shape[0]} "
                              f"sources, the priors of {list(names)}")
    return out


def accepted_sources(labels: list[dict], min_density: float = float("-inf")) -> list[list[np.ndarray]]:
    """Per source ``k``, the accepted teacher estimates. A mixture is accepted whole when each of
    its estimates is rated higher by its own prior than by any other, and at least ``min_density``
    nats per sample: a failed search puts a partial in the wrong slot, which spoils two slots at once."""
    k = labels[0]["sources"].shape[0]
    pools: list[list[np.ndarray]] = [[] for _ in range(k)]
    for lab in labels:
        dens = lab["log_density"]
        own = np.diag(dens)
        if np.all(own >= dens.max(0)) and np.all(own >= min_density):
            for j in range(k):
                pools[j].append(lab["sources"][j])
    return pools


class TeacherRemixes(torch.utils.data.Dataset):
    """Paired items ``(mix (T,), sources (K, T))`` remixed from accepted teacher estimates: source
    ``k`` of item ``i`` is a random crop of a random accepted estimate of source ``k``, random in
    (seed, i). Recombining estimates across mixtures multiplies the few the teacher could afford."""

    def __init__(self, pools: list[list[np.ndarray]], weights, length: int = 2048, seed: int = 0):
        if any(len(p) == 0 for p in pools):
            counts = [len(p) for p in pools]
            raise DataError(f"every source needs at least one accepted teacher estimate, got {counts}; "
                            "write more teacher mixtures or lower the acceptance threshold")
        shortest = min(x.shape[-1] for p in pools for x in p)
        if length > shortest:
            raise ConfigError(f"crop length {length} exceeds the shortest teacher estimate ({shortest} samples)")
        self.pools, self.weights, self.length, self.seed = pools, list(weights), length, seed

    def __len__(self) -> int:
        return 10**9

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, int(i)])
        crops = []
        for pool in self.pools:
            x = pool[rng.integers(len(pool))]
            o = rng.integers(x.shape[-1] - self.length + 1)
            crops.append(x[o:o + self.length])
        sources = np.stack(crops).astype(np.float32)
        return torch.from_numpy(mix_sources(sources, self.weights)), torch.from_numpy(sources)

    def describe(self) -> str:
        return (f"remixes of accepted Langevin teacher estimates ({[len(p) for p in self.pools]} per source), "
                f"crops of {self.length} samples (seed {self.seed})")
