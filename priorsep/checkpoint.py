"""Checkpoint files shared by priors, baselines, encoders and trainers: a state_dict (``.pt``) next to
a JSON config (``.json``), both written atomically (temp file + rename), loaded with
``weights_only=True``. :func:`save_model` / :func:`load_model` are the one pair every model family
uses; the config names the model's class for :mod:`priorsep.registry`."""
from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

import torch
from .errors import CheckpointError, CheckpointNotFoundError, UnknownNameNotFoundError, brief
from .registry import checkpoint_keys, resolve


def _atomic_write(path: Path, write) -> None:
    """Write via a temp file in the same folder, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_torch_save(obj, path: str | Path) -> None:
    _atomic_write(Path(path), lambda f: torch.save(obj, f))


def atomic_json_save(obj, path: str | Path) -> None:
    _atomic_write(Path(path), lambda f: f.write((json.dumps(obj, indent=2) + "\n").encode()))


def atomic_npz_save(path: str | Path, **arrays) -> None:
    """``numpy.savez`` of ``arrays`` to ``path``, atomically."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    _atomic_write(Path(path), lambda f: f.write(buf.getvalue()))


def user_path(name: str | Path, what: str) -> Path:
    """``name`` as a Path, refusing what no file system accepts (empty names, NUL bytes)."""
    text = str(name)
    if not text.strip() or "\x00" in text:
        raise UnknownNameNotFoundError(f"{what} {text!r} is not a usable name or path")
    return Path(text)


def checkpoint_paths(stem: str | Path) -> tuple[Path, Path]:
    """``(weights .pt, config .json)`` for a checkpoint stem such as ``priors/sine``."""
    stem = user_path(stem, "checkpoint")
    if stem.name in ("", ".", ".."):
        raise UnknownNameNotFoundError(f"{str(stem)!r} is a folder, not a checkpoint stem such as priors/sine")
    if stem.suffix in (".pt", ".json"):
        stem = stem.with_suffix("")
    return stem.with_suffix(".pt"), stem.with_suffix(".json")


def side_file(stem: str | Path, suffix: str) -> Path:
    """A file next to a checkpoint: ``side_file("priors/sine", ".train.pt")`` -> ``priors/sine.train.pt``."""
    weights, _ = checkpoint_paths(stem)
    base = weights.with_suffix("")
    return base.with_name(base.name + suffix)


def _major_minor(version: str) -> tuple[int, int]:
    major, minor = (str(version).split(".") + ["0", "0"])[:2]
    return int(major), int(minor)


def check_version(saved: str | None, where: Path | str) -> None:
    """Refuse a checkpoint written by an incompatible priorsep: another major version, or (while the
    major version is 0, when formats may change with any minor release) another minor version.
    Checkpoints without a version (written by hand) are accepted."""
    from .version import __version__

    if saved is None:
        return
    try:
        mine, theirs = _major_minor(__version__), _major_minor(saved)
    except ValueError:
        raise CheckpointError(f"{where}: unreadable priorsep_version {saved!r}") from None
    if mine[0] != theirs[0] or (mine[0] == 0 and mine[1] != theirs[1]):
        raise CheckpointError(f"{where} was written by priorsep {saved}, incompatible with this priorsep "
                              f"{__version__}; install priorsep {theirs[0]}.{theirs[1]}.x to use it, or retrain")


def read_checkpoint(stem: str | Path, what: str = "checkpoint") -> tuple[dict, dict]:
    """``(config, state_dict)`` of ``stem.json`` + ``stem.pt``; clear errors for missing or corrupt files."""
    weights, config_path = checkpoint_paths(stem)
    for p in (weights, config_path):
        if not p.is_file():
            raise CheckpointNotFoundError(f"{what} file missing: {p} "
                                          f"(a {what} is a .pt state_dict plus a .json config)")
    try:
        config = json.loads(config_path.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"corrupt {what.split()[0]} config {config_path}: {e}") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"corrupt {what.split()[0]} config {config_path}: expected a JSON object")
    check_version(config.get("priorsep_version"), config_path)
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for truncated/garbage files
        raise CheckpointError(f"corrupt {what.split()[0]} weights {weights}: {brief(e)}") from None
    return config, state


def save_model(model, stem: str | Path, family: str, extra: dict | None = None, *, config: dict | None = None) -> None:
    """Save ``stem.pt`` (``model.state_dict()``) and ``stem.json``: ``config`` (default ``model.config``)
    and ``extra``, then what loading needs: ``kind``, ``model_class``, ``module`` (the defining
    class's module, imported on load if its kind is not registered yet; see :mod:`priorsep.registry`)
    and ``priorsep_version``. ``family``: ``"prior"``, ``"baseline"`` or ``"encoder"``."""
    from .version import __version__

    weights, config_path = checkpoint_paths(stem)
    cfg = {**(model.config if config is None else config), **(extra or {}), **checkpoint_keys(family, model),
           "priorsep_version": __version__}
    atomic_torch_save(model.state_dict(), weights)
    atomic_json_save(cfg, config_path)


def load_model(stem: str | Path, family: str, *, check: Callable[[dict], None] | None = None,
               build: Callable[[type, dict], object] | None = None):
    """The ``family`` model saved at ``stem`` (eval mode): its class from the config
    (:func:`priorsep.registry.resolve`), built by ``build(cls, config)`` (default ``cls(config)``),
    then its weights. ``check(config)`` runs first (e.g. that an encoder fits the priors)."""
    weights, config_path = checkpoint_paths(stem)
    config, state = read_checkpoint(stem, f"{family} checkpoint")
    if check is not None:
        check(config)
    cls = resolve(family, config, config_path)
    model = cls(config) if build is None else build(cls, config)
    try:
        model.load_state_dict(state)
    except Exception as e:
        raise CheckpointError(f"{family} weights {weights} do not fit their config ({brief(e)}); "
                              "the .json and .pt are from different models") from None
    return model.eval()


def read_training_state(path: str | Path, device: torch.device | str = "cpu") -> dict:
    """A trainer's resume file (``NAME.train.pt``); a clear error if it is truncated or corrupt
    (it is written atomically, so that means it was damaged afterwards)."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:
        raise CheckpointError(f"cannot resume from {path}: the file is damaged ({brief(e)}); delete it to start over "
                              "from the last saved model with --init, or restore it") from None
    if not isinstance(state, dict) or "step" not in state:
        raise CheckpointError(f"cannot resume from {path}: not a priorsep training state (no 'step')")
    return state


def append_log(log_path: str | Path, records: list[dict]) -> None:
    """Append training records to a JSONL log. Trainers call it *before* saving their state, so a
    crash in between leaves extra lines that :func:`trim_log` removes on resume, never missing ones."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def read_log(log_path: str | Path) -> list[dict]:
    """All records of a JSONL training log (empty if there is none yet)."""
    log_path = Path(log_path)
    return [json.loads(line) for line in log_path.read_text().splitlines()] if log_path.is_file() else []


def trim_log(log_path: str | Path, step: int) -> None:
    """Drop the records after ``step`` from a JSONL training log (atomically): a run killed after
    appending its log but before saving its state resumes from the previous state and logs those
    steps again."""
    log_path = Path(log_path)
    if not log_path.is_file():
        return
    lines = log_path.read_text().splitlines()
    keep = [line for line in lines if line.strip() and json.loads(line).get("step", 0) <= step]
    if len(keep) != len(lines):
        _atomic_write(log_path, lambda f: f.write("".join(line + "\n" for line in keep).encode()))
