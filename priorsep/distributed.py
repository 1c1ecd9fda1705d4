"""Data-parallel training and separation across processes started by ``torchrun``.

``torchrun --nproc_per_node=N -m priorsep train-prior ...`` sets ``WORLD_SIZE``/``RANK``/``LOCAL_RANK``
and the rendezvous variables; :func:`init` joins the process group (NCCL when every rank has its own
GPU, gloo otherwise). Trainers then

* split every global batch of ``batch_size`` items into ``world`` contiguous shards (:meth:`Dist.shard`),
  so each step sees exactly the items and noise draws of a single-process run,
* wrap the model in :class:`~torch.nn.parallel.DistributedDataParallel` (:meth:`Dist.wrap`), which
  averages the shards' gradients: the update equals the single-process one up to float rounding,
* write checkpoints and logs on rank 0 only (:attr:`Dist.is_main`) and wait at :meth:`Dist.barrier`
  so that no rank resumes from, or reads, a half-finished step.

Without ``torchrun`` (``WORLD_SIZE`` unset or 1) everything degrades to one process and no-ops.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from .errors import ConfigError


@dataclass(frozen=True)
class Dist:
    """This process' place in the job: ``rank`` of ``world`` processes."""

    rank: int = 0
    world: int = 1

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def device(self) -> torch.device:
        """Where this rank computes: its own GPU under NCCL, else the CPU."""
        if self.enabled and dist.get_backend() == "nccl":
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, batch_size: int) -> slice:
        """This rank's contiguous part of a global batch of ``batch_size`` items."""
        if batch_size % self.world:
            raise ConfigError(f"--batch-size {batch_size} must be a multiple of the number of processes ({self.world})")
        per = batch_size // self.world
        return slice(self.rank * per, (self.rank + 1) * per)

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` in DistributedDataParallel (parameters broadcast from rank 0), or itself."""
        if not self.enabled:
            return model
        device_ids = [torch.cuda.current_device()] if dist.get_backend() == "nccl" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)

    def average_gradients(self, params) -> None:
        """All-reduce (mean) the ``.grad`` of ``params``: what DDP does, for trainers whose steps DDP's
        reducer cannot follow (several forward passes and a double backward per update, as in GANs
        with an R1 penalty)."""
        if not self.enabled:
            return
        for p in params:
            if p.grad is not None:
                dist.all_reduce(p.grad)
                p.grad.div_(self.world)

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def mean(self, value: float) -> float:
        """The mean of a per-rank scalar (e.g. a loss) over all ranks."""
        if not self.enabled:
            return value
        t = torch.tensor([value], dtype=torch.float64)
        dist.all_reduce(t)
        return float(t.item()) / self.world


def init() -> Dist:
    """Join the ``torchrun`` process group if there is one (idempotent); returns this process' :class:`Dist`."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not dist.is_initialized():
        use_nccl = (torch.cuda.is_available()
                    and torch.cuda.device_count() >= int(os.environ.get("LOCAL_WORLD_SIZE", world)))
        if use_nccl:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if use_nccl else "gloo")
    return Dist(rank=dist.get_rank(), world=dist.get_world_size())


def current() -> Dist:
    """This process' :class:`Dist` if :func:`init` joined a group, else the single-process one."""
    if dist.is_available() and dist.is_initialized():
        return Dist(rank=dist.get_rank(), world=dist.get_world_size())
    return Dist()


def shutdown(*, finished: bool = True) -> bool:
    """Leave the process group, if this process joined one; returns whether it had.

    ``finished``: every rank got here by a normal return, so they first meet at a barrier. After an
    error (perhaps on this rank only) a barrier could wait forever, so that path leaves at once.

    A process that was in a group should then end with :func:`os._exit`, as ``priorsep``'s ``main``
    does, not by the interpreter's normal teardown: gloo's worker threads outlive
    ``destroy_process_group`` here and may free a finished collective's tensors while the interpreter
    is finalizing. Freeing a tensor that Python has seen needs the GIL, and a thread that asks for it
    then is killed, which aborts the process (``terminate called without an active exception``,
    SIGABRT; 8 of 115 runs of a two-process denoiser training on a loaded CPU, none of 40 with os._exit).
    """
    if not (dist.is_available() and dist.is_initialized()):
        return False
    if finished:
        dist.barrier()
    dist.destroy_process_group()
    return True
