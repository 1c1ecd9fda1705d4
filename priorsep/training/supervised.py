"""Supervised training of a waveform separator (Wave-U-Net, Demucs) on paired (mix, stems) crops,
with early stopping.

The model maps ``mix (B, C, input_length)`` to ``sources (B, K, C, output_length)`` (the centre of
the input; equal lengths for a model without valid-convolution context) and says its ``context``
``(before, after)`` in samples. Files for ``--out runs/waveunet``: ``waveunet.pt`` + ``.json`` (the model with the best
validation loss so far: the usable separator), ``waveunet.train.pt`` (latest model, optimiser,
scheduler, step and early-stopping state, to resume), ``waveunet.log.jsonl`` (losses).
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from .. import distributed
from ..baselines.io import save_baseline
from ..baselines.base import BaselineSeparator
from ..errors import DataError
from .loop import ResumableTraining, Step, descend
from .lr_schedule import cosine_decay


def _edge_silence(mix: torch.Tensor, sources: torch.Tensor, before: int, after: int, prob: float,
                  g: torch.Generator) -> None:
    """Zero the input before/after a random point of the context, in place, with probability ``prob``
    per side: at separation time the first and last frames see silence (padding) as context."""
    b, t = mix.shape[0], mix.shape[-1]
    for side, ctx in (("before", before), ("after", after)):
        hit = torch.rand(b, generator=g) < prob
        cut = torch.randint(0, ctx + 1, (b,), generator=g)
        for i in torch.nonzero(hit).flatten().tolist():
            c = int(cut[i])
            if side == "before":
                mix[i, ..., :c] = 0
                sources[i, ..., :c] = 0
            elif c:
                mix[i, ..., t - c:] = 0
                sources[i, ..., t - c:] = 0


def _batch(dataset, start: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mix (n, C, T), sources (n, K, C, T))`` of items ``start .. start + n - 1``."""
    items = [dataset[start + j] for j in range(n)]
    mixes = torch.stack([m for m, _ in items]).float()
    sources = torch.stack([s for _, s in items]).float()
    if mixes.ndim == 2:  # mono datasets give (T,) and (K, T)
        mixes, sources = mixes[:, None], sources[:, :, None]
    return mixes, sources


def _objective(model, net, mixes: torch.Tensor, sources: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """The model's own ``training_loss(mix, sources)`` where it has one (Meta-TasNet: SI-SNR and its
    auxiliary terms), else the MSE of the centre outputs (through ``net``, the DDP wrapper)."""
    if hasattr(model, "training_loss"):
        return model.training_loss(mixes, sources)
    est = net(mixes)
    return F.mse_loss(est, _centre(sources, est.shape[-1])), {}


def validation_loss(model: BaselineSeparator, val_set, batch_size: int = 16) -> float:
    """The training objective (MSE of the centre outputs, or the model's ``training_loss``) averaged
    over every item of ``val_set``."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(val_set), batch_size):
            n = min(batch_size, len(val_set) - start)
            mixes, sources = _batch(val_set, start, n)
            device = next(model.parameters()).device
            mixes, sources = mixes.to(device), sources.to(device)
            if hasattr(model, "training_loss"):  # a batch mean: weighted by the batch's items
                total += model.training_loss(mixes, sources)[0].item() * n
                count += n
                continue
            est = model(mixes)
            total += F.mse_loss(est, _centre(sources, est.shape[-1]), reduction="sum").item()
            count += est.numel()
    model.train()
    return total / count


def _centre(x: torch.Tensor, length: int) -> torch.Tensor:
    start = (x.shape[-1] - length) // 2
    return x[..., start:start + length]


def train_supervised(
    model: BaselineSeparator,
    train_set,
    val_set,
    out: str | Path,
    *,
    steps: int = 4000,
    batch_size: int = 16,
    lr: float = 5e-4,
    seed: int = 0,
    checkpoint_every: int = 200,
    patience: int = 10,
    edge_prob: float = 0.25,
    quiet: bool = False,
) -> list[dict]:
    """The model's ``training_loss(mix, sources)`` where it defines one, else the MSE on the centre
    output of crops ``train_set[i] = (mix (T,) or (C, T), sources (K, T) or
    (K, C, T))`` of the model's input length; batch ``b`` uses items ``b * batch_size ...`` so a
    resumed run sees the same data. Every ``checkpoint_every`` steps the validation MSE decides
    which model is kept; training stops after ``patience`` validations without improvement.
    Under ``torchrun`` each process trains on its shard of every batch (DistributedDataParallel);
    batch-norm statistics are per shard (CPU has no synchronised batch norm), the validation loss
    is averaged over ranks so that every rank takes the same early-stopping decision, and rank 0
    writes the files. Returns the log records.
    """
    for name, ds in (("training", train_set), ("validation", val_set)):
        mix0, _ = ds[0]
        if mix0.shape[-1] != model.input_length:
            raise DataError(f"{name} crops have {mix0.shape[-1]} samples; this {model.label} takes "
                             f"{model.input_length} (output {model.output_length} + context)")
    loop = ResumableTraining(out, steps=steps, checkpoint_every=checkpoint_every, quiet=quiet,
                             desc=f"train {model.kind}")
    d = distributed.current()
    part = d.shard(batch_size)
    model.to(d.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = cosine_decay(opt, steps)
    state = loop.resume({"model": model, "optimizer": opt, "scheduler": sched}, d.device)
    best, bad = (float(state["best_val"]), int(state["bad_validations"])) if state else (float("inf"), 0)
    before, after = model.context
    # earlier stages (--init) count too; a stage with a new seed draws new items. Each history entry
    # records the count its checkpoint had, which already includes the stages before it.
    history = model.config.get("training_history", [])
    earlier_items = int(history[-1].get("paired_items") or 0) if history else 0
    model.train()
    net = d.wrap(model)

    def step(i: int) -> Step:
        g = torch.Generator().manual_seed(seed * 1_000_003 + i)
        mixes, sources = _batch(train_set, i * batch_size, batch_size)
        _edge_silence(mixes, sources, before, after, edge_prob, g)
        mixes, sources = mixes[part].to(d.device), sources[part].to(d.device)
        loss, terms = _objective(model, net, mixes, sources)
        # a model's own training_loss bypasses the DDP wrapper: its gradients are averaged over ranks by hand
        own = hasattr(model, "training_loss") and d.world > 1
        return Step({"loss": d.mean(loss.item()), **terms}, {"loss": loss},
                    postfix={"loss": f"{loss.item():.2e}", "best_val": f"{best:.2e}"},
                    update=lambda: descend(loss, opt, model.parameters(), sched, average=own))

    def validate(done: int, records: list[dict]) -> bool:
        """The validation MSE (averaged over ranks: every rank decides alike); whether it is the best yet."""
        nonlocal best, bad
        val = d.mean(validation_loss(model, val_set, batch_size))
        records.append({"step": done, "val_loss": val})
        if not val < best:
            bad += 1
            return False
        best, bad = val, 0
        model.config.update(trained_steps=done, best_val_loss=val,
                            paired_items=earlier_items + min(len(train_set), done * batch_size))
        return True

    log = loop.run(step, save=lambda done: save_baseline(model, out), at_checkpoint=validate,
                   extra_state=lambda: {"best_val": best, "bad_validations": bad}, should_stop=lambda: bad >= patience)
    model.eval()
    return log
