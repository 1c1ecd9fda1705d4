"""Separating audio files: one or many, across worker processes or ``torchrun`` ranks, resumable.

An input is done when all of its ``SOURCE.wav`` outputs exist; outputs are written atomically
(temp file + rename), so an interrupted batch leaves no half-written file that would look done,
and rerunning the same command separates only what is missing. Each file is separated with the
same seed whichever worker takes it, so the outputs do not depend on ``jobs`` or the number of ranks.
"""
from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import distributed
from ..data.audio import AUDIO_EXTENSIONS, fit_length, read_audio, resample, validate_mix, write_audio
from ..errors import AudioFileNotFoundError, ConfigError, OutputConflictError, SampleRateError


@dataclass
class Separation:
    """What to separate with: ``method`` "langevin" (``priors``, ``settings``) or "baseline" (``model``)."""

    method: str = "langevin"
    priors: str | None = None  # None: "toy", or for "variational" the set whose bundled encoder separates
    model: str | None = None
    encoder: str | None = None
    seed: int = 0
    resample: bool = False
    settings: dict = field(default_factory=dict)
    progress: bool = False  # Langevin's own progress bar (for a single file)

    def load(self):
        """The separator: a :class:`~priorsep.priors.io.PriorSet` or a baseline; validates the method."""
        if self.method == "baseline":
            from ..baselines.io import load as load_baseline

            if not self.model:
                raise ConfigError("--method baseline needs --model NAME (a bundled baseline such as waveunet-toy, "
                                  "or a checkpoint stem)")
            return load_baseline(self.model)
        if self.method not in ("langevin", "variational"):
            raise ConfigError(f"unknown method {self.method!r}; expected 'langevin', 'variational' or 'baseline'")
        from ..priors.io import load_priors
        from .variational import DEFAULT_SET

        return load_priors(self.priors or (DEFAULT_SET if self.method == "variational" else "toy"))


def collect_inputs(paths: list[str | Path]) -> list[tuple[Path, str]]:
    """``(file, output name)`` for every input: files as given (name = their stem), folders
    searched recursively (name = the path below the folder, without suffix). Sorted, unique."""
    out: dict[Path, str] = {}
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(q for q in p.rglob("*") if q.suffix.lower() in AUDIO_EXTENSIONS and q.is_file()):
                out.setdefault(f.resolve(), str(f.relative_to(p).with_suffix("")))
        elif p.is_file():
            out.setdefault(p.resolve(), p.stem)
        else:
            raise AudioFileNotFoundError(f"audio file not found: {p} (expected audio files or folders of them)")
    if not out:
        raise AudioFileNotFoundError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {[str(p) for p in paths]}")
    names = list(out.values())
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise OutputConflictError(f"several inputs would write to the same output folder {dup}; "
                                  "separate them in separate runs or rename them")
    return sorted(((f, n) for f, n in out.items()), key=lambda x: x[1])


def output_targets(inputs: list[tuple[Path, str]], out: Path, names: list[str], flat: bool) -> list[dict[str, Path]]:
    """``{source: path}`` per input: ``out/SOURCE.wav`` when ``flat`` (a single input), else
    ``out/<input name>/SOURCE.wav``. Refuses outputs that are inputs."""
    targets = [{s: (out if flat else out / name) / f"{s}.wav" for s in names} for _, name in inputs]
    sources = {f.resolve() for f, _ in inputs}
    for t in targets:
        for path in t.values():
            if path.resolve() in sources:
                raise OutputConflictError(f"output {path} would overwrite the input mix; choose another --out")
    return targets


def separate_array(sep: Separation, separator, mix: np.ndarray, rate: int, name: str = "mix") -> dict[str, np.ndarray]:
    """Separate ``mix (T,)`` or ``(C, T)`` at ``rate`` Hz with ``separator`` (from ``sep.load()``).
    With ``sep.resample`` a mix at another rate than the separator's is resampled to it, and the
    estimates back to ``rate`` and the mix's length; otherwise that is a :class:`SampleRateError`."""
    expected = separator.sample_rate
    length = mix.shape[-1]
    if rate != expected:
        if not sep.resample:
            raise SampleRateError(f"{name} is at {rate} Hz but the {'model' if sep.method == 'baseline' else 'priors'} "
                                  f"expect {expected} Hz; resample it first or pass --resample")
        mix = resample(mix, rate, expected)
    mix = validate_mix(mix, name=name)
    if sep.method == "baseline":
        est = separator.separate(mix)
    elif sep.method == "variational":
        from .variational import variational_separate

        est = variational_separate(mix, priors=separator, encoder=sep.encoder, seed=sep.seed)
    else:
        from .langevin import langevin_separate

        est = langevin_separate(mix, priors=separator, seed=sep.seed, progress=sep.progress, encoder=sep.encoder,
                                **sep.settings)
    if rate != expected:
        est = {k: fit_length(resample(a, expected, rate), length) for k, a in est.items()}  # resampling rounds up
    return est


def _separate_one(sep: Separation, separator, path: Path, targets: dict[str, Path]) -> None:
    """Separate one file into ``targets`` (at the file's rate)."""
    mix, rate = read_audio(path)
    est = separate_array(sep, separator, mix[0] if mix.shape[0] == 1 else mix, rate, name=str(path))
    for name, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        write_audio(target, est[name], rate)


_WORKER: dict = {}


def _worker_init(sep: Separation, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    _WORKER["sep"], _WORKER["separator"] = sep, sep.load()


def _worker_run(job: tuple[Path, dict[str, Path]]) -> str:
    path, targets = job
    _separate_one(_WORKER["sep"], _WORKER["separator"], path, targets)
    return str(path)


def separate_files(inputs: list[str | Path], out: str | Path, sep: Separation, *, jobs: int = 1,
                   quiet: bool = False) -> dict[str, int]:
    """Separate every input file (or folder of files) into ``out``; returns counts
    ``{"separated", "skipped", "total"}`` for this process (this rank under ``torchrun``).

    ``jobs`` > 1 runs that many worker processes, each with an equal share of the cores. Under
    ``torchrun`` rank r takes every world-th file; combine with ``jobs`` for several workers per rank.
    """
    if jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {jobs}")
    separator = sep.load()
    files = collect_inputs(list(inputs))
    out = Path(out)
    flat = len(inputs) == 1 and Path(inputs[0]).is_file()
    targets = output_targets(files, out, list(separator.names), flat)
    d = distributed.current()
    mine = [(f, t) for i, ((f, _), t) in enumerate(zip(files, targets)) if i % d.world == d.rank]
    todo = [(f, t) for f, t in mine if not all(p.is_file() for p in t.values())]
    counts = {"separated": len(todo), "skipped": len(mine) - len(todo), "total": len(files)}
    if not quiet and counts["skipped"]:
        print(f"skipping {counts['skipped']} input(s) whose outputs exist")
    show = not quiet and len(todo) > 1
    if quiet or len(todo) > 1:
        sep = replace(sep, progress=False)
    if jobs == 1 or len(todo) <= 1:
        for f, t in tqdm(todo, disable=not show, desc="separate", unit="file"):
            _separate_one(sep, separator, f, t)
    else:
        import torch

        threads = max(1, torch.get_num_threads() // jobs)
        ctx = multiprocessing.get_context("spawn")  # no fork of a process that holds torch threads
        with ctx.Pool(min(jobs, len(todo)), initializer=_worker_init, initargs=(sep, threads)) as pool:
            for _ in tqdm(pool.imap_unordered(_worker_run, todo), total=len(todo), disable=not show,
                          desc=f"separate ({jobs} jobs)", unit="file"):
                pass
    return counts


__all__ = ["Separation", "collect_inputs", "output_targets", "separate_array", "separate_files"]
