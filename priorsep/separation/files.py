"""Separating audio files: one or many, across worker processes or ``torchrun`` ranks, resumable.

An input is done when all of its ``SOURCE.wav`` outputs exist; outputs are written atomically
(temp file + rename), so an interrupted batch leaves no half-written file that would look done,
and rerunning the same command separates only what is missing. Within a long file the chunks
finished so far are kept in ``.priorsep-partial.pt`` beside its outputs
(:mod:`~priorsep.dsp.chunk_state`): the same command resumes after them with the same output, and
the file goes once the outputs are written. Each file is separated with the
same seed whichever worker takes it, so the outputs do not depend on ``jobs`` or the number of ranks.
"""
from __future__ import annotations

import copy
import multiprocessing
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import distributed
from ..checkpoint import atomic_json_save
from ..data.audio import AUDIO_EXTENSIONS, fit_length, read_audio, resample, write_audio
from ..dsp.chunk_state import resumable
from ..errors import AudioFileNotFoundError, ConfigError, OutputConflictError, SampleRateError
from ..separator import Separator


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


def planned_outputs(inputs: list[str | Path], out: str | Path, names: list[str]) -> list[tuple[Path, str, dict]]:
    """``(file, output name, {source: output path})`` for every input of ``priorsep separate``
    (:func:`collect_inputs`; a single input file writes straight into ``out``)."""
    files = collect_inputs(list(inputs))
    flat = len(inputs) == 1 and Path(inputs[0]).is_file()
    targets = output_targets(files, Path(out), names, flat)
    return [(f, name, t) for (f, name), t in zip(files, targets)]


def separate_array(separator: Separator, mix: np.ndarray, rate: int, name: str = "mix", *,
                   resample_to_model: bool = False) -> dict[str, np.ndarray]:
    """Separate ``mix (T,)`` or ``(C, T)`` at ``rate`` Hz. With ``resample_to_model`` a mix at
    another rate than the separator's is resampled to it, and the estimates back to ``rate`` and
    the mix's length; otherwise that is a :class:`SampleRateError`."""
    model_mix, back = _at_model_rate(separator, mix, rate, name, resample_to_model)
    return {k: back(a) for k, a in separator.separate(model_mix, name=name).items()}


def separate_array_with_draws(separator: Separator, mix: np.ndarray, rate: int, samples: int, name: str = "mix", *,
                              resample_to_model: bool = False) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """:func:`separate_array` for a separator with posterior draws (Langevin, variational):
    ``(means, draws)``, ``draws[source]`` shaped ``(samples, *mix.shape)``."""
    if not hasattr(separator, "separate_with_draws"):
        raise ConfigError(f"{separator.label} gives no posterior draws; --samples needs --method langevin or "
                          "variational")
    model_mix, back = _at_model_rate(separator, mix, rate, name, resample_to_model)
    means, draws = separator.separate_with_draws(model_mix, samples)
    return ({k: back(a) for k, a in means.items()},
            {k: np.stack([back(x) for x in a]) for k, a in draws.items()})


def _at_model_rate(separator: Separator, mix: np.ndarray, rate: int, name: str, resample_to_model: bool):
    """``(mix at the separator's rate, back)``: ``back(estimate)`` returns an estimate to ``rate`` and
    the mix's length."""
    expected = separator.sample_rate
    length = mix.shape[-1]
    if rate == expected:
        return mix, lambda a: a
    if not resample_to_model:
        who = "the priors expect" if hasattr(separator, "priors") else "the model expects"
        raise SampleRateError(f"{name} is at {rate} Hz but {who} {expected} Hz; resample it first or pass --resample")
    return resample(mix, rate, expected), lambda a: fit_length(resample(a, expected, rate), length)  # rounds up


def _separate_one(separator: Separator, path: Path, targets: dict[str, Path], resample_to_model: bool,
                  samples: int = 1) -> None:
    """Separate one file into ``targets`` (at the file's rate). ``samples`` > 1: the draws' means, and
    first (an input is done when its SOURCE.wav files exist) each source's ``SOURCE.spread.wav`` (the
    draws' standard deviation, sample by sample), ``uncertainty.json`` (confidence per source, dB)
    and ``uncertainty.png`` (:func:`~.uncertainty.plot_uncertainty`) beside them."""
    mix, rate = read_audio(path)
    mix = mix[0] if mix.shape[0] == 1 else mix
    folder = next(iter(targets.values())).parent
    folder.mkdir(parents=True, exist_ok=True)
    with resumable(folder / PARTIAL, _job_key(separator, path, resample_to_model, samples)):
        if samples == 1:
            est = separate_array(separator, mix, rate, name=str(path), resample_to_model=resample_to_model)
        else:
            est, draws = separate_array_with_draws(separator, mix, rate, samples, name=str(path),
                                                   resample_to_model=resample_to_model)
            _write_uncertainty(draws, rate, targets)
        for name, target in targets.items():
            write_audio(target, est[name], rate)


PARTIAL = ".priorsep-partial.pt"


def _job_key(separator: Separator, path: Path, resample_to_model: bool, samples: int) -> str:
    """What a saved partial separation of ``path`` must match to be resumed: the input file as it is
    now, the separator (method, sources, rate, settings, weights, seed, device) and the run's options."""
    st = path.stat()
    settings = [getattr(separator, a, None) for a in ("config", "draws", "seed")]
    return (f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{separator.label}|{list(separator.names)}|"
            f"{separator.sample_rate}|{settings!r}|{_weights_checksum(separator):.12e}|{separator.device}|"
            f"resample={resample_to_model}|samples={samples}")


def _weights_checksum(separator: Separator) -> float:
    """Sum of |weight| over the separator's networks (its priors, its encoder, itself): other
    checkpoints under the same label give another sum."""
    import torch

    modules = [*getattr(separator, "priors", []), getattr(separator, "encoder", None), separator]
    tensors = [t for m in modules if isinstance(m, torch.nn.Module) for t in m.state_dict().values()]
    return float(sum(t.double().abs().sum().item() for t in tensors if t.is_floating_point()))


def _write_uncertainty(draws: dict[str, np.ndarray], rate: int, targets: dict[str, Path]) -> None:
    from .uncertainty import plot_uncertainty, summarize_draws

    folder = next(iter(targets.values())).parent
    for name, target in targets.items():
        write_audio(target.with_suffix(".spread.wav"), draws[name].std(0), rate)
    record = {"confidence_db": summarize_draws(draws), "samples": len(next(iter(draws.values()))),
              "confidence": "10 log10(|mean|^2 / mean squared deviation of the draws): high where the draws agree"}
    atomic_json_save(record, folder / "uncertainty.json")
    plot_uncertainty(draws, rate, folder / "uncertainty.png")


_WORKER: dict = {}


def _worker_init(separator: Separator, resample_to_model: bool, threads: int, samples: int) -> None:
    import torch

    torch.set_num_threads(threads)
    _WORKER.update(separator=separator, resample=resample_to_model, samples=samples)


def _worker_run(job: tuple[Path, dict[str, Path]]) -> str:
    path, targets = job
    _separate_one(_WORKER["separator"], path, targets, _WORKER["resample"], _WORKER["samples"])
    return str(path)


def separate_files(inputs: list[str | Path], out: str | Path, separator: Separator, *, resample: bool = False,
                   jobs: int = 1, quiet: bool = False, samples: int = 1) -> dict[str, int]:
    """Separate every input file (or folder of files) into ``out`` with a built ``separator``;
    returns counts ``{"separated", "skipped", "total"}`` for this process (this rank under ``torchrun``).

    ``resample``: files at another rate are resampled to the separator's and back. ``jobs`` > 1
    runs that many worker processes (each gets a copy of the separator and an equal share of the
    cores; CPU separators only). Under ``torchrun`` rank r takes every world-th file; combine with ``jobs`` for several
    workers per rank. ``samples`` > 1: posterior draws per input, written as the draws' means plus
    the uncertainty files of :func:`_separate_one` (Langevin and variational separators).
    """
    if jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {jobs}")
    if jobs > 1 and separator.device.type != "cpu":
        raise ConfigError(f"--jobs {jobs} shares out the CPU cores; on {separator.device} separate with --jobs 1 "
                          "(or one torchrun rank per GPU)")
    if samples != 1 and (samples < 2 or not hasattr(separator, "separate_with_draws")):
        raise ConfigError(f"--samples {samples}: needs at least 2 draws and --method langevin or variational "
                          f"(this is {separator.label})")
    files = planned_outputs(inputs, out, list(separator.names))
    d = distributed.current()
    mine = [(f, t) for i, (f, _, t) in enumerate(files) if i % d.world == d.rank]
    todo = [(f, t) for f, t in mine if not all(p.is_file() for p in t.values())]
    counts = {"separated": len(todo), "skipped": len(mine) - len(todo), "total": len(files)}
    if not quiet and counts["skipped"]:
        print(f"skipping {counts['skipped']} input(s) whose outputs exist")
    show = not quiet and len(todo) > 1
    if (quiet or len(todo) > 1) and separator.progress:  # one bar per file would interleave: a bar over files
        separator = copy.copy(separator)
        separator.progress = False
    if jobs == 1 or len(todo) <= 1:
        for f, t in tqdm(todo, disable=not show, desc="separate", unit="file"):
            _separate_one(separator, f, t, resample, samples)
    else:
        import torch

        threads = max(1, torch.get_num_threads() // jobs)
        ctx = multiprocessing.get_context("spawn")  # no fork of a process that holds torch threads
        with ctx.Pool(min(jobs, len(todo)), initializer=_worker_init,
                      initargs=(separator, resample, threads, samples)) as pool:
            for _ in tqdm(pool.imap_unordered(_worker_run, todo), total=len(todo), disable=not show,
                          desc=f"separate ({jobs} jobs)", unit="file"):
                pass
    return counts


__all__ = ["collect_inputs", "output_targets", "separate_array", "separate_files"]
