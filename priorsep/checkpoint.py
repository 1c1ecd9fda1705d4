"""Checkpoint files shared by priors, baselines and trainers: a state_dict (``.pt``) next to a JSON
config (``.json``), both written atomically (temp file + rename), loaded with ``weights_only=True``."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch
from .errors import CheckpointError, CheckpointNotFoundError


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


def checkpoint_paths(stem: str | Path) -> tuple[Path, Path]:
    """``(weights .pt, config .json)`` for a checkpoint stem such as ``priors/sine``."""
    stem = Path(stem)
    if stem.suffix in (".pt", ".json"):
        stem = stem.with_suffix("")
    return stem.with_suffix(".pt"), stem.with_suffix(".json")


def side_file(stem: str | Path, suffix: str) -> Path:
    """A file next to a checkpoint: ``side_file("priors/sine", ".train.pt")`` -> ``priors/sine.train.pt``."""
    weights, _ = checkpoint_paths(stem)
    base = weights.with_suffix("")
    return base.with_name(base.name + suffix)


def read_checkpoint(stem: str | Path, what: str = "checkpoint") -> tuple[dict, dict]:
    """``(config, state_dict)`` of ``stem.json`` + ``stem.pt``; clear errors for missing or corrupt files."""
    weights, config_path = checkpoint_paths(stem)
    for p in (weights, config_path):
        if not p.is_file():
            raise CheckpointNotFoundError(f"{what} file missing: {p} (a {what} is a .pt state_dict plus a .json config)")
    try:
        config = json.loads(config_path.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"corrupt {what.split()[0]} config {config_path}: {e}") from None
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for truncated/garbage files
        raise CheckpointError(f"corrupt {what.split()[0]} weights {weights}: {e}") from None
    return config, state
