#!/usr/bin/env bash
# Recipe for the bundled toy priors (priorsep/priors/bundled/toy). Resumable: rerun after a crash.
# Stage 1: maximum likelihood on noised crops (~0.3 s/step on the 2-core dev machine; the bundled
#          sine prior got 2000 steps, the others 1500).
# Stage 2: fine-tune with maximum likelihood + denoising score matching (~0.35 s/step), which
#          turns the discriminative-but-rough densities into usable scores for Langevin.
set -euo pipefail
OUT=${OUT:-priors-work/toy-final}  # then copy its NAME.pt/.json to priorsep/priors/bundled/toy
WORK=${WORK:-priors-work/toy}
STEPS=${STEPS:-1500}
DSM_STEPS=${DSM_STEPS:-800}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
mkdir -p "$OUT" "$WORK/nll"
for src in sine square sawtooth triangle; do
  priorsep train-prior --resume --kind flow --source "$src" --data toy --out "$WORK/nll/$src" \
    --steps "$STEPS" --batch-size 32 --crop 2048 --sigma-min 0.01 --sigma-max 2.0 --lr 1e-3 --seed 0 --quiet
done
for src in sine square sawtooth triangle; do
  priorsep train-prior --resume --kind flow --source "$src" --data toy --init "$WORK/nll/$src" --out "$OUT/$src" \
    --steps "$DSM_STEPS" --batch-size 16 --crop 2048 --sigma-min 0.01 --sigma-max 2.0 --lr 3e-4 --seed 1 \
    --dsm-weight 1.0 --quiet
done
# the source order and the separation settings benchmarked with this set (benchmarks/results/mask_space/),
# kept in one place: the bundled priorset.json
cp priorsep/priors/bundled/toy/priorset.json "$OUT/priorset.json"
