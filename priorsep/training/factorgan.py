"""Adversarial training of a :class:`~priorsep.baselines.factorgan.FactorGAN`, resumable.

Files for ``out = runs/factorgan``: ``factorgan.pt`` + ``factorgan.json`` (the usable separator: the
weight average of the generator, refreshed at every checkpoint, or the best one on a validation set
so far), ``factorgan.train.pt`` (generator, its average, discriminators, optimisers, schedulers,
step, best validation score: everything to resume exactly), ``factorgan.log.jsonl`` (losses).
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .. import distributed
from ..baselines.factorgan import FactorGAN, FactorGANDiscriminators
from ..errors import ConfigError, DataError
from ..evaluation.metrics import si_sdr_improvement
from ..mixing import mix as mix_sources
from ..dsp.masks import masked_sources
from .loop import ResumableTraining, Step, descend
from .lr_schedule import cosine_decay


def _default_save(model, stem) -> None:
    from ..baselines.io import save_baseline  # lazy: io imports every baseline class

    save_baseline(model, stem)


def _crop(x: torch.Tensor, length: int, g: torch.Generator) -> torch.Tensor:
    """A random ``length``-sample window of ``x (..., T)`` (offset from ``g``)."""
    t = x.shape[-1]
    if t < length:
        raise DataError(f"training items have {t} samples; this FactorGAN trains on crops of {length} "
                         f"((train_frames - 1) * hop)")
    start = int(torch.randint(0, t - length + 1, (1,), generator=g)) if t > length else 0
    return x[..., start:start + length]


def shuffle_sources(tup: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """``(B, K, ...)`` -> the same sources re-paired at random across the batch (source 0 stays):
    samples of prod_k p(x_k) drawn from samples of p(x), the dependency discriminators' negatives."""
    b, k = tup.shape[:2]
    cols = [tup[:, 0]] + [tup[torch.randperm(b, generator=g), j] for j in range(1, k)]
    return torch.stack(cols, dim=1)


def auxiliary_negatives(solo: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Real solo crops ``(B, K, T)`` -> ``(B, K, T)`` negatives for the marginal discriminators, a third
    of the items each: slot k holds another source j != k; a leaky source x_k + sum_j b_j a_j x_j
    over the other sources (a_j ~ U[0.1, 1], b_j in {0, 1}, at least one 1: up to the whole mix at
    full level); or a quiet one a x_k with a ~ U[0, 0.5]. With only one source leaking, d_square
    rated the whole mix in its slot above real squares, an escape for the generator. Uses no paired
    data: the crops of different sources are independent."""
    b, k = solo.shape[:2]
    shift = torch.randint(1, k, (b, k), generator=g)
    idx = torch.arange(k)
    other = torch.gather(solo, 1, ((idx[None] + shift) % k)[..., None].expand_as(solo))
    # leak[i, k, j]: gain of source j in slot k's leaky negative (0 on the diagonal; the shifted j always leaks)
    gains = 0.1 + 0.9 * torch.rand(b, k, k, generator=g)
    always = idx[None, None, :] == ((idx[None] + shift) % k)[..., None]
    leak = torch.where(always | (torch.rand(b, k, k, generator=g) < 0.5), gains, 0.0) * (1 - torch.eye(k))
    quiet = 0.5 * torch.rand(b, k, 1, generator=g)
    kind = torch.randint(0, 3, (b, 1, 1), generator=g)
    return torch.where(kind == 0, other, torch.where(kind == 1, solo + leak @ solo, quiet * solo))


def validation_si_sdri(model: FactorGAN, val_set, batch_size: int = 16) -> float:
    """Median SI-SDRi (dB, over items and sources) of ``model``'s separations of the paired items
    ``val_set[i] = (mix (T,), sources (K, T))``: the score that selects the saved separator."""
    scores = []
    was_training = model.training
    model.eval()
    for start in range(0, len(val_set), batch_size):
        items = [val_set[i] for i in range(start, min(start + batch_size, len(val_set)))]
        mixes = torch.stack([m for m, _ in items])
        with torch.no_grad():
            est = model.separate_tensor(mixes[:, None])[:, :, 0]  # (B, K, T)
        scores.append(si_sdr_improvement(est, torch.stack([s for _, s in items]), mixes))
    model.train(was_training)
    return float(np.median(np.concatenate(scores)))


def _bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(real)))


def train_factorgan(
    model: FactorGAN,
    solo_sets: Sequence,
    paired_set,
    out: str | Path,
    *,
    steps: int = 3800,
    batch_size: int = 16,
    lr: float = 2e-4,
    d_lr: float | None = None,
    d_steps: int = 1,
    seed: int = 0,
    checkpoint_every: int = 200,
    quiet: bool = False,
    paired: int | None = None,
    mixes: str = "solo",
    save_model: Callable | None = None,
    stop_after: int | None = None,
    ema_decay: float = 0.998,
    discriminators: Callable[[dict], FactorGANDiscriminators] = FactorGANDiscriminators,
    d_penalty: Callable | None = None,
    aux_negatives: float = 0.0,
    d_warmup: int = 0,
    supervised_steps: int = 0,
    supervised_lr: float = 1e-3,
    supervised_weight: float = 0.0,
    val_set=None,
) -> list[dict]:
    """FactorGAN training (Definition 3.3.2, eq. 3.11): ``d_steps`` discriminator updates, then one
    generator update on ``-log sigmoid(d_p - d_q + sum_k d_k)`` of its own separations.

    Discriminators (BCE on logits, one Adam with ``d_lr``, default ``lr``; TTUR if they differ):
      * marginal d_k: real solo crops ``solo_sets[k][i]`` (``(T,)`` tensors, independent items per
        source) vs the generator's source k;
      * p-dependency d_p: real tuples ``paired_set[i] = (mix (T,), sources (K, T))`` vs the same
        tuples re-paired across the batch (:func:`shuffle_sources`) -- the only use of paired data;
      * q-dependency d_q: generated tuples vs re-paired generated tuples.

    Generator inputs are draws of p(m): q(m, s) = q(s | m) p(m). With ``mixes="solo"`` (default)
    they are fresh mixes :func:`priorsep.mixing.mix` of independent solo crops, which are draws of
    p(m) when the sources are independent (true of the toy data) and unlimited, unlike paired
    items; ``mixes="paired"`` uses the mixes of ``paired_set`` instead (for data where real mixes
    are not sums of independent stems). No loss ever compares estimates with paired stems.

    ``ema_decay``: the saved separator is an exponential moving average of the generator's weights
    (0: the generator itself), which smooths the oscillations of adversarial training; on return
    ``model`` holds these averaged weights.

    ``discriminators``: the discriminators' class, built from ``model.config`` (experimental
    feature options: :class:`priorsep.experimental.factorgan.LevelFeatureDiscriminators`).
    ``d_penalty(inputs, logits)``: a regulariser added to the discriminators' loss, given their
    positive inputs (real solo features, real tuples, generated tuples; they require grad) and
    logits (the experimental R1 penalty: :class:`priorsep.experimental.factorgan.R1Penalty`).

    ``aux_negatives``: weight in [0, 1) of *auxiliary negatives* for the marginal discriminators:
    besides the generator's source k, d_k also learns to reject real solo crops of the other
    sources, leaky sources (x_k plus some of the others) and quiet ones a x_k
    (:func:`auxiliary_negatives`), built from unpaired solo crops only. A deviation from the thesis
    (its negatives are generated sources only): it tells every d_k from the start what its source
    is *not*, so the generator gets gradients towards the right source instead of a discriminator
    that chases whatever it produces now. (On the toy data it did not prevent the generator's
    collapse: ``benchmarks/results/baselines/README.md``.)
    Three stages, all counted in ``steps``:
      1. ``supervised_steps`` (default 0): the generator alone minimises the MSE between its estimates
         (mixture phase) and the stems of the *same* ``paired_set`` items (own Adam,
         ``supervised_lr``, cosine decay over these steps). A deviation from the thesis, whose
         generator learns adversarially only: on the toy data every adversarial run from uniform
         masks collapsed (slots of sparse sources went silent), while from a good start the
         adversarial stage improved the separation (``benchmarks/results/baselines/README.md``).
         The paired count stays that of ``paired_set``.
      2. ``d_warmup``: the discriminators alone, against the generator as stage 1 left it (stage 1
         trains no discriminator, which halves its cost; training them alongside did not help:
         the separation collapsed at the hand-over either way, without the anchor below).
      3. the rest: discriminator and generator updates as above (Adam ``lr`` for the generator,
         cosine decay over this stage; ``d_lr`` over stages 2-3). ``supervised_weight`` > 0 adds
         that times stage 1's MSE (on a fresh batch of the paired items) to the generator's loss,
         an anchor against the collapse (another deviation).

    ``val_set``: paired items ``(mix, sources)`` *not* in ``paired_set``; if given, every checkpoint
    scores the weight average on them (:func:`validation_si_sdri`) and the saved separator is the
    best so far (``config["trained_steps"]`` its step, ``config["val_si_sdri"]`` its score), since
    adversarial training drifts; without it the separator is the latest weight average.

    Under ``torchrun`` each process takes a contiguous shard of every batch (its crops, noise and
    re-pairings) and the gradients of generator and discriminators are averaged over processes
    (:meth:`priorsep.distributed.Dist.average_gradients`); rank 0 writes the files.

    Items longer than ``model.train_samples`` are cropped at random. Step ``s`` draws items by
    index from ``s`` and its noise, crops and shuffles from a generator seeded by (seed, s), so a
    resumed run is identical to an uninterrupted one. ``paired``: number of distinct paired items,
    recorded in the config (default ``len(paired_set)``). ``save_model(model, stem)`` writes the
    usable separator (default :func:`priorsep.baselines.io.save_baseline`). ``stop_after``: checkpoint
    and return after this step (a time slice of a ``steps``-step run; the schedules follow ``steps``).
    Returns the log records ``{"step", "d_marginal", "d_p", "d_q", "g", "supervised_mse", "seconds"}``
    (BCE in nats, ln 2 = 0.693 is a discriminator at chance; None for a loss the step did not
    compute), plus ``"val_si_sdri"`` (dB) at checkpoints when ``val_set`` is given.
    """
    if mixes not in ("solo", "paired"):
        raise ConfigError(f"mixes must be 'solo' or 'paired', got {mixes!r}")
    checks = {f"0 <= aux_negatives < 1 (got {aux_negatives})": 0 <= aux_negatives < 1,
              f"d_steps >= 1 (got {d_steps})": d_steps >= 1, f"d_warmup >= 0 (got {d_warmup})": d_warmup >= 0,
              f"supervised_steps >= 0 (got {supervised_steps})": supervised_steps >= 0,
              f"supervised_weight >= 0 (got {supervised_weight})": supervised_weight >= 0,
              f"d_warmup + supervised_steps <= steps (got {d_warmup} + {supervised_steps} > {steps}; "
              f"shorten the stages or train longer)": d_warmup + supervised_steps <= steps}
    failed = [need for need, ok in checks.items() if not ok]
    if failed:
        raise ConfigError("train_factorgan needs " + "; ".join(failed))
    k = len(model.names)
    if len(solo_sets) != k:
        raise ConfigError(f"{k} sources but {len(solo_sets)} solo datasets")
    save_model = save_model or _default_save
    loop = ResumableTraining(out, steps=steps, checkpoint_every=checkpoint_every, quiet=quiet, desc="train factorgan",
                             stop_after=stop_after,
                             nonfinite="non-finite loss at step {step}: {losses}; lower the learning rates")
    d_lr = lr if d_lr is None else d_lr
    dd = distributed.current()
    part = dd.shard(batch_size)
    length = model.train_samples
    noise_frames = int(model.config["train_frames"])

    with torch.random.fork_rng():  # discriminator init from the seed, not from the caller's RNG state
        torch.manual_seed(seed)
        discs = discriminators(model.config)
    # Adam betas (0.5, 0.999): the usual GAN setting; one optimiser for all discriminators is the
    # same as one each, as their losses touch disjoint parameters.
    g_opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discs.parameters(), lr=d_lr, betas=(0.5, 0.999))
    s_opt = torch.optim.Adam(model.parameters(), lr=supervised_lr)
    adversarial_from = supervised_steps + d_warmup  # first step with an adversarial generator update
    # each schedule spans the updates of its optimiser
    g_sched = cosine_decay(g_opt, max(1, steps - adversarial_from))
    d_sched = cosine_decay(d_opt, max(1, steps - supervised_steps))
    s_sched = cosine_decay(s_opt, max(1, supervised_steps))
    # top level, as for Wave-U-Net: the benchmark's "paired" column (distinct paired items training used)
    model.config["paired_items"] = int(len(paired_set) if paired is None else paired)
    model.config["training"] = {
        "objective": "FactorGAN (Stoller 2020, section 3.3): marginal + p/q-dependency discriminators, "
                     "non-saturating generator loss",
        "paired": int(len(paired_set) if paired is None else paired),
        "generator_mixes": "mixes of independent solo crops" if mixes == "solo" else "mixes of the paired items",
        "solo_data": [_describe(ds) for ds in solo_sets],
        "paired_data": _describe(paired_set),
        "steps": steps, "batch_size": batch_size, "lr": lr, "d_lr": d_lr, "d_steps": d_steps, "seed": seed,
        "ema_decay": ema_decay,
        "discriminators": getattr(discriminators, "__name__", repr(discriminators)),
        "d_penalty": repr(d_penalty) if d_penalty is not None else None,
        "aux_negatives": aux_negatives, "d_warmup": d_warmup,
        "supervised_steps": supervised_steps, "supervised_lr": supervised_lr, "supervised_weight": supervised_weight,
        "supervised_loss": ("MSE of the estimates vs the stems of the paired items"
                            if supervised_steps or supervised_weight else None),
        "validation_data": _describe(val_set) if val_set is not None else None,
        "crop_samples": length,
    }

    ema = copy.deepcopy(model)  # the weight average: the usable separator
    state = loop.resume({"model": model, "ema": ema, "discriminators": discs, "g_optimizer": g_opt,
                         "d_optimizer": d_opt, "g_scheduler": g_sched, "d_scheduler": d_sched,
                         "s_optimizer": s_opt, "s_scheduler": s_sched})
    best_val = float(state["best_val"]) if state else -float("inf")
    ema.train()

    def solo_batch(kk: int, first: int, g: torch.Generator) -> torch.Tensor:
        ds = solo_sets[kk]
        return torch.stack([_crop(ds[(first + j) % len(ds)], length, g) for j in range(batch_size)])

    def generator_mixes(step: int, draw: int, g: torch.Generator) -> torch.Tensor:
        """``(B, T)`` generator inputs for the ``draw``-th use of mixes in ``step``."""
        if mixes == "paired":
            first = (step * (d_steps + 1) + draw) * batch_size
            return torch.stack([_crop(paired_set[(first + j) % len(paired_set)][0], length, g)
                                for j in range(batch_size)])
        # distinct item ranges for the real solo crops (even slots) and the mixes' crops (odd slots)
        first = (step * 2 * (d_steps + 1) + 2 * draw + 1) * batch_size
        return mix_sources(torch.stack([solo_batch(kk, first, g) for kk in range(k)], dim=1), model.weights)

    def paired_batch(first: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, T)`` mixes and ``(B, K, T)`` stems: the same random crop of paired items first, first + 1, ..."""
        items = [_crop(torch.cat([m[None], s]), length, g)
                 for m, s in (paired_set[(first + j) % len(paired_set)] for j in range(batch_size))]
        return torch.stack([x[0] for x in items]), torch.stack([x[1:] for x in items])

    def noise(g: torch.Generator) -> torch.Tensor:
        return torch.randn(batch_size, model.rows, noise_frames, generator=g)

    def discriminator_step(step: int, d: int, g: torch.Generator) -> tuple[torch.Tensor, ...]:
        """One update of every discriminator; returns the BCE of the marginal, p and q ones."""
        first = (step * 2 * (d_steps + 1) + 2 * d) * batch_size
        solo = torch.stack([solo_batch(kk, first, g) for kk in range(k)], dim=1)[part]  # (B, K, T)
        real = discs.features(model.source_magnitudes(solo))
        tup = paired_batch((step * d_steps + d) * batch_size, g)[1][part]
        real_tup = discs.features(model.source_magnitudes(tup))
        with torch.no_grad():
            masks, spec_mix = model.generate(generator_mixes(step, d, g)[part], noise(g)[part])
            fake = discs.features(model.generated_magnitudes(masks, spec_mix))
        if d_penalty is not None:
            for x in (real, real_tup, fake):
                x.requires_grad_(True)
        pos = (discs.marginal_logits(real), discs.p(real_tup), discs.q(fake))
        d_marg_fake = _bce(discs.marginal_logits(fake.detach()), False)
        if aux_negatives > 0:
            aux = discs.features(model.source_magnitudes(auxiliary_negatives(solo, g)))
            d_marg_fake = (1 - aux_negatives) * d_marg_fake + aux_negatives * _bce(discs.marginal_logits(aux), False)
        d_marg = 0.5 * (_bce(pos[0], True) + d_marg_fake)
        d_p = 0.5 * (_bce(pos[1], True) + _bce(discs.p(shuffle_sources(real_tup.detach(), g)), False))
        d_q = 0.5 * (_bce(pos[2], True) + _bce(discs.q(shuffle_sources(fake.detach(), g)), False))
        d_loss = k * d_marg + d_p + d_q  # d_marg is the mean over the K marginal discriminators
        if d_penalty is not None:
            d_loss = d_loss + d_penalty((real, real_tup, fake), pos)
        descend(d_loss, d_opt, discs.parameters(), average=True)
        return d_marg, d_p, d_q

    def supervised_loss(step: int, g: torch.Generator) -> torch.Tensor:
        """MSE of the generator's estimates vs the stems of a batch of paired items."""
        mix_b, stems = paired_batch(step * batch_size, g)
        spec_mix = model.spectrogram(mix_b[part])
        est = masked_sources(model.logits(spec_mix, noise(g)[part]), spec_mix,
                             torch.as_tensor(model.weights), model.n_fft, model.hop, length)
        return F.mse_loss(est, stems[part])

    def supervised_step(step: int, g: torch.Generator) -> torch.Tensor:
        """One generator update on :func:`supervised_loss`."""
        loss = supervised_loss(step, g)
        descend(loss, s_opt, model.parameters(), s_sched, average=True)
        return loss

    def adversarial_step(step: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One generator update on -log sigmoid(combined logit) of its own separations (+ the
        weighted supervised loss); returns both parts."""
        # the discriminators' parameters get gradients too but are zeroed before their next step
        masks, spec_mix = model.generate(generator_mixes(step, d_steps, g)[part], noise(g)[part])
        fake = discs.features(model.generated_magnitudes(masks, spec_mix))
        loss = F.softplus(-discs.combined_logit(fake)).mean()
        mse = supervised_loss(step, g) if supervised_weight > 0 else None
        descend(loss if mse is None else loss + supervised_weight * mse, g_opt, model.parameters(), g_sched,
                average=True)
        return loss, mse

    model.train()
    discs.train()

    def step(i: int) -> Step:
        g = torch.Generator().manual_seed(seed * 1_000_003 + i)
        losses: dict[str, torch.Tensor] = {}
        if i < supervised_steps:  # 1. the generator alone, supervised
            losses["supervised_mse"] = supervised_step(i, g)
        else:  # 2. the discriminators alone (d_warmup steps), 3. both, adversarially
            for d in range(d_steps):
                losses["d_marginal"], losses["d_p"], losses["d_q"] = discriminator_step(i, d, g)
            d_sched.step()
            if i >= adversarial_from:
                losses["g"], mse = adversarial_step(i, g)
                if mse is not None:
                    losses["supervised_mse"] = mse
        if "g" in losses or "supervised_mse" in losses:  # the generator moved
            with torch.no_grad():
                for pe, p in zip(ema.parameters(), model.parameters()):
                    pe.lerp_(p, 1.0 - ema_decay)
        return Step(losses=losses, postfix={n: f"{v.item():.3f}" for n, v in losses.items()},
                    record={n: dd.mean(losses[n].item()) if n in losses else None
                            for n in ("d_marginal", "d_p", "d_q", "g", "supervised_mse")})

    def validate(done: int, records: list[dict]) -> bool:
        """Score the weight average (every process scores the same items: no communication needed);
        whether it is to be saved (the best so far, or always without ``val_set``)."""
        nonlocal best_val
        keep = True
        if val_set is not None:
            val = validation_si_sdri(ema, val_set, batch_size)
            records[-1]["val_si_sdri"] = round(val, 3)
            keep = val > best_val
            if keep:
                best_val = val
                ema.config["val_si_sdri"] = round(val, 3)
        if keep:
            ema.config["trained_steps"] = done
        return keep

    log = loop.run(step, save=lambda done: save_model(ema, out), at_checkpoint=validate,
                   extra_state=lambda: {"best_val": best_val})
    if val_set is None:
        model.load_state_dict(ema.state_dict())
        model.config = ema.config
    else:  # the selected separator, as saved
        from ..baselines.io import load_baseline  # lazy, as in _default_save

        best = load_baseline(out)  # the last checkpoint's barrier made it visible to every process
        model.load_state_dict(best.state_dict())
        model.config = best.config
    model.eval()
    return log


def _describe(ds) -> str:
    return ds.describe() if hasattr(ds, "describe") else type(ds).__name__
