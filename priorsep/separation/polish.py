"""Swap-and-refine polishing of a finished separation (``polish_rounds=N``).

An annealed search can end in a wrong mode: two priors holding each other's source (with a little
of a third), or three sources moved round a cycle. No local move undoes that, since every state in
between is a blend the priors reject; and the final assignment (``mask_assign``) alone cannot
either, because a source's estimate carries contamination that a peaked prior punishes more than a
wrong assignment (``benchmarks/results/wavenet/README.md``: a right candidate whose sine was 9.6 dB
clean rated -16.7 nats per sample at sigma 0.01, a wrong one -4.1, the truth +11.1).

So each round tries candidates and *refines them before rating them*: the estimate with two of
its slots swapped, for the ``n_swaps`` pairs whose swap the priors like best as they stand, each
cleaned by a short refinement (``refine``: in :mod:`.langevin`, a mask search then signal-space
Langevin from a low sigma, which removes the contamination the mask family leaves); the candidate
with the highest total log density at ``sigma`` replaces the estimate if it beats it. Rounds stop
when no candidate does, so a cycle of three is undone in two rounds. The estimate itself is
refined once first, so the incumbent and its challengers are rated after the same treatment.

A search can also end in a *blend*: two slots each holding part of two sources' partials (the
toy sine at 445 Hz and triangle at 387 Hz, each slot with about half of each; 10 dB). No swap
undoes that. ``split`` (:func:`hard_frequency_split`) proposes one more candidate per round for
it: every frequency bin of the mixture given wholly to the slot that holds most of its energy
over the whole chunk. For stationary sources that is the clean split (26.6 dB on that mix after
refinement); for others the densities simply rate it lower and it loses.
"""
from __future__ import annotations

import itertools
from typing import Callable

import torch
from tqdm.auto import tqdm

from ..dsp.stft import istft, stft

LogDensities = Callable[[torch.Tensor, float], torch.Tensor]  # (N, K, T), sigma -> (N, K)
Refine = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # sources (N, K, T), mixes (N, T) -> (N, K, T)


def move_to_slots(s: torch.Tensor, perm, weights: torch.Tensor) -> torch.Tensor:
    """Sources ``s (B, K, T)`` with slot ``j`` holding estimate ``perm[j]``, rescaled by
    ``w_perm[j] / w_j`` so that the weighted sum (the mix) is unchanged."""
    perm = torch.as_tensor(perm, dtype=torch.long, device=s.device)
    return s[:, perm] * (weights[perm] / weights)[:, None]


def slot_ratings(s: torch.Tensor, weights: torch.Tensor, log_densities: LogDensities, sigma: float) -> torch.Tensor:
    """``rated (B, K, K)``: ``rated[:, j, i]`` = log p_j(estimate ``i`` of ``s (B, K, T)`` moved to slot ``j`` | sigma).
    K evaluations of all priors (one per cyclic shift), not K^2 one by one."""
    b, k = s.shape[:2]
    rated = torch.empty(b, k, k, dtype=s.dtype, device=s.device)
    slots = torch.arange(k, device=s.device)
    for shift in range(k):
        i = (slots + shift) % k
        rated[:, slots, i] = log_densities(move_to_slots(s, i, weights), sigma)
    return rated


def pair_swaps(k: int) -> list[tuple[int, ...]]:
    """Every permutation of ``range(k)`` that swaps two slots, in ``itertools.combinations`` order."""
    perms = []
    for a, b in itertools.combinations(range(k), 2):
        p = list(range(k))
        p[a], p[b] = b, a
        perms.append(tuple(p))
    return perms


def best_pair_swaps(rated: torch.Tensor, n: int) -> list[tuple[int, ...]]:
    """The ``n`` pair swaps (as slot permutations) that raise the unrefined total density of one
    mix most, from its ``rated (K, K)``; fewer when K has fewer pairs."""
    swaps = pair_swaps(rated.shape[0])
    gain = torch.tensor([float(sum(rated[j, i] - rated[j, j] for j, i in enumerate(p) if i != j)) for p in swaps],
                        device="cpu")  # a few numbers, ranked where they are read
    return [swaps[j] for j in torch.argsort(gain, descending=True)[:n].tolist()]


def hard_frequency_split(s: torch.Tensor, mixes: torch.Tensor, weights: torch.Tensor, n_fft: int, hop: int
                         ) -> torch.Tensor:
    """Sources ``(B, K, T)`` from binary masks constant in time: each frequency bin of the mixtures'
    STFT goes wholly to the slot of ``s (B, K, T)`` that holds most of its energy over all frames."""
    spec = stft(s * weights[:, None], n_fft, hop)  # (B, K, F, N)
    winner = spec.abs().pow(2).sum(-1).argmax(1)  # (B, F)
    masks = torch.nn.functional.one_hot(winner, s.shape[1]).transpose(1, 2)[..., None].to(s.dtype)
    return istft(masks * stft(mixes, n_fft, hop)[:, None], n_fft, hop, s.shape[-1]) / weights[:, None]


def polish(mixes: torch.Tensor, est: torch.Tensor, weights: torch.Tensor, *, rounds: int, n_swaps: int,
           refine: Refine, log_densities: LogDensities, sigma: float, split: Refine | None = None,
           split_swap: bool = False, progress: bool = False) -> torch.Tensor:
    """Swap-and-refine ``est (B, K, T)`` of ``mixes (B, T)`` for up to ``rounds`` rounds; returns ``(B, K, T)``.

    ``refine`` must keep the mixing constraint; ``log_densities`` gives per-source log p(. | sigma).
    ``split(sources, mixes)``: one more candidate per mix and round besides the swaps (e.g. a
    :func:`hard_frequency_split`), also meeting the mix. ``split_swap`` (needs ``split`` and swaps):
    each round also tries the split of its best swap *after* that swap's refinement, refined again.
    A right swap comes out of one refinement with the contamination it inherited, and a peaked
    prior rates that below a clean wrong estimate; its split drops the contamination (toy seed 12,
    mix 0: the refined right swap 17 dB and 134 132 nats against the kept wrong estimate's
    163 050; split and refined again 23 dB and 180 734).
    """
    n_perm = min(n_swaps, len(pair_swaps(est.shape[1])))
    if split_swap and (split is None or n_perm == 0):  # n_perm: a single source has no pair to swap
        raise ValueError("split_swap needs a split and at least one swap")
    cur = refine(est, mixes)
    total = log_densities(cur, sigma).sum(1)
    active = torch.arange(est.shape[0], device=est.device)
    n = n_perm + (split is not None)  # candidates per mix and round
    for _ in tqdm(range(rounds if n else 0), disable=not progress, desc="polish", leave=False):
        if len(active) == 0:
            break
        perms = ([best_pair_swaps(r, n_perm) for r in slot_ratings(cur[active], weights, log_densities, sigma)]
                 if n_perm else [[] for _ in active])  # the split alone needs no slot ratings
        split_of = split(cur[active], mixes[active]) if split is not None else None
        cands = []  # n per mix, adjacent: its swaps, then its split
        for j, (a, ps) in enumerate(zip(active.tolist(), perms)):
            cands += [move_to_slots(cur[[a]], p, weights) for p in ps]
            if split_of is not None:
                cands.append(split_of[[j]])
        cands = torch.cat(cands)
        refined = refine(cands, mixes[active].repeat_interleave(n, 0)).view(len(active), n, *cur.shape[1:])
        rating = log_densities(refined.flatten(0, 1), sigma).sum(1).view(len(active), n)
        if split_swap:  # the split of each mix's best refined swap, refined again: one more candidate
            rows = torch.arange(len(active), device=est.device)
            top = refined[rows, rating[:, :n_perm].argmax(1)]
            again = refine(split(top, mixes[active]), mixes[active])
            refined = torch.cat([refined, again[:, None]], 1)
            rating = torch.cat([rating, log_densities(again, sigma).sum(1)[:, None]], 1)
        best, pick = rating.max(1)
        better = best > total[active]
        won = active[better]
        cur[won] = refined[better, pick[better]]
        total[won] = best[better]
        active = won
    return cur
