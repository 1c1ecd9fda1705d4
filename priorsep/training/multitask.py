"""Training the shared-encoder multitask separator (seed 001) interleaved or simultaneously.

``databases[k][i] = (mix (T,), target (T,))``: source ``k``'s database of mixtures with that one
source's target (:class:`priorsep.data.multitrack.SourceTargets`).

* ``interleaved`` (the paper's Algorithm 1): step ``i`` takes a mini-batch of database ``k`` only and
  updates the encoder and decoder ``k``; the task order is a fresh permutation every ``K`` steps
  (non-repeating). The databases need not share any mix.
* ``simultaneous``: step ``i`` takes one mini-batch of mixes with every source's target (database
  ``k``'s item ``j`` must be the same mix for every ``k``, e.g. views of one paired dataset) and
  updates everything on the sum of the ``K`` losses.

The loss is the L1 distance of normalised magnitudes (the paper's spectrogram reconstruction loss).
Validation: the mean loss over ``val_databases`` every ``checkpoint_every`` steps keeps the best
model and stops training after ``patience`` validations without improvement. Files as
:mod:`priorsep.training.supervised`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..baselines.io import save_baseline
from ..baselines.multitask import SharedEncoderSeparator
from ..errors import ConfigError, DataError
from .loop import ResumableTraining, Step, descend
from .lr_schedule import cosine_decay


def _batch(db, start: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mixes (n, T), targets (n, T))`` of items ``start .. start + n - 1``."""
    items = [db[start + j] for j in range(n)]
    return torch.stack([m for m, _ in items]).float(), torch.stack([s for _, s in items]).float()


def task_order(seed: int, i: int, k: int) -> int:
    """The source trained at interleaved step ``i``: a fresh permutation of the ``k`` tasks every ``k`` steps."""
    return int(np.random.default_rng([seed, i // k]).permutation(k)[i % k])


def _one_paired_set(databases: list):
    """Simultaneous training reads each paired item once: the databases must be views of one paired set."""
    paired = getattr(databases[0], "paired", None)
    if paired is None or any(getattr(db, "paired", None) is not paired for db in databases) or \
            [db.k for db in databases] != list(range(len(databases))):
        raise ConfigError("simultaneous training needs every source's target for each mix: pass "
                          "[SourceTargets(paired, k) for k in range(K)] of one paired dataset")
    return paired


def validation_loss(model: SharedEncoderSeparator, val_databases, batch_size: int = 16) -> float:
    """Mean L1 of normalised magnitudes (each crop's first patch) over every item of every source's
    validation database (in eval mode; the model's mode is restored)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for k, db in enumerate(val_databases):
            for start in range(0, len(db), batch_size):
                mixes, targets = _batch(db, start, min(batch_size, len(db) - start))
                cut = slice(0, model.config["patch_frames"])  # a fixed patch of each crop
                est = model.decode(model.normalised_magnitude(mixes)[..., cut], k)
                total += (est - model.normalised_magnitude(targets)[..., cut]).abs().sum().item()
                count += est.numel()
    model.train(was_training)
    return total / count


def train_multitask(
    model: SharedEncoderSeparator,
    databases: list,
    val_databases: list,
    out: str | Path,
    *,
    steps: int = 4000,
    batch_size: int = 16,
    lr: float = 2e-4,
    seed: int = 0,
    checkpoint_every: int = 200,
    patience: int = 10,
    quiet: bool = False,
) -> list[dict]:
    """Train ``model`` in its ``training_mode`` (see the module docstring). Crops must be long enough
    for ``patch_frames`` frames; the per-bin scale is fitted on the first training mixtures of a
    fresh run. Returns the log records."""
    mode, k_sources = model.config["training_mode"], len(model.names)
    if len(databases) != k_sources or len(val_databases) != k_sources:
        raise ConfigError(f"one training and one validation database per source: {k_sources} sources, "
                          f"{len(databases)} and {len(val_databases)} databases")
    frames = model.spectrogram(databases[0][0][0]).shape[-1]
    if frames < model.config["patch_frames"]:
        raise DataError(f"crops give {frames} STFT frames; the model trains on patches of "
                        f"{model.config['patch_frames']} (longer crops needed)")
    loop = ResumableTraining(out, steps=steps, checkpoint_every=checkpoint_every, quiet=quiet, desc=f"train {mode}")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = cosine_decay(opt, steps)
    state = loop.resume({"model": model, "optimizer": opt, "scheduler": sched})
    best, bad = (float(state["best_val"]), int(state["bad_validations"])) if state else (float("inf"), 0)
    if state is None and not model.config.get("training_history"):
        model.fit_bin_scale(torch.cat([_batch(db, 0, 8)[0] for db in databases]))
    patch = model.config["patch_frames"]
    paired = _one_paired_set(databases) if mode == "simultaneous" else None
    model.train()

    def patch_of(mag: torch.Tensor, g: torch.Generator) -> slice:
        start = int(torch.randint(0, mag.shape[-1] - patch + 1, (1,), generator=g))
        return slice(start, start + patch)

    def step(i: int) -> Step:
        g = torch.Generator().manual_seed(seed * 1_000_003 + i)
        if mode == "interleaved":
            k = task_order(seed, i, k_sources)
            mixes, targets = _batch(databases[k], (i // k_sources) * batch_size, batch_size)
            mag = model.normalised_magnitude(mixes)
            cut = patch_of(mag, g)
            loss = (model.decode(mag[..., cut], k) - model.normalised_magnitude(targets)[..., cut]).abs().mean()
            record = {"loss": loss.item(), "source": k}
        else:
            items = [paired[i * batch_size + j] for j in range(batch_size)]
            mag = model.normalised_magnitude(torch.stack([m for m, _ in items]).float())
            cut = patch_of(mag, g)
            targets = model.normalised_magnitude(torch.stack([s for _, s in items]).float())[..., cut]
            loss = (model(mag[..., cut]) - targets).abs().mean(dim=(0, 2, 3)).sum()
            record = {"loss": loss.item()}
        return Step(record, {"loss": loss}, postfix={"loss": f"{loss.item():.3f}", "best_val": f"{best:.3f}"},
                    update=lambda: descend(loss, opt, model.parameters(), sched))

    def validate(done: int, records: list[dict]) -> bool:
        nonlocal best, bad
        val = validation_loss(model, val_databases, batch_size)
        records.append({"step": done, "val_loss": val})
        if not val < best:
            bad += 1
            return False
        best, bad = val, 0
        # items seen: (mix, one target) pairs when interleaved, (mix, every target) sets when simultaneous
        model.config.update(trained_steps=done, best_val_loss=val, paired_items=done * batch_size)
        return True

    log = loop.run(step, save=lambda done: save_baseline(model, out), at_checkpoint=validate,
                   extra_state=lambda: {"best_val": best, "bad_validations": bad}, should_stop=lambda: bad >= patience)
    model.eval()
    return log
