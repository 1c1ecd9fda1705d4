"""The one way a user's device choice (``device=`` in the API, ``--device`` in the CLI) becomes a
:class:`torch.device`: separation runs every model and tensor on it; nothing in the core assumes CPU."""
from __future__ import annotations

import torch

from .errors import ConfigError

#: device kinds a user may name; ``"cuda:1"`` names one card of several
DEVICE_KINDS = ("cpu", "cuda")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device`` (``None``: CPU; ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a :class:`torch.device`) as a
    :class:`torch.device`. A :class:`~priorsep.errors.ConfigError` names what was wrong: an unknown
    kind, or a CUDA device that this machine (or this torch build) does not have."""
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ConfigError(f"device {device!r} is not a device; expected one of {list(DEVICE_KINDS)} "
                          "(or 'cuda:N')") from e
    if dev.type not in DEVICE_KINDS:
        raise ConfigError(f"device {device!r}: priorsep separates on {list(DEVICE_KINDS)}, not {dev.type!r}")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {device!r}: no CUDA device is available here (torch.cuda.is_available() is "
                              "False; a CPU-only torch build, or no GPU); use device='cpu'")
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise ConfigError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        dev = torch.device("cuda", index)
    return dev


def device_name(device: torch.device) -> str:
    """A device in words for result files: the card's name on CUDA, ``"cpu"`` otherwise."""
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
