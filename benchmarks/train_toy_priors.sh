#!/usr/bin/env bash
# Recipe for the bundled toy flow priors (priorsep/priors/bundled/toy). Resumable: rerun after a crash.
#
# Each source gets the flow basis whose score denoises it best (benchmarks/tweedie_gain.py):
# * sine, triangle: spectral flows (--basis dct): frames of 256 samples -> orthonormal DCT ->
#   6 coupling blocks whose conditioners see across frequency and frames. Maximum likelihood +
#   denoising score matching from the start; stage 1: 1500 steps at lr 1e-3, stage 2: 1500 more at
#   lr 5e-4 (fresh cosine schedule, new seed). ~0.35 s/step on one core.
# * square, sawtooth (jumps: broadband frames that the spectral flow denoised poorly): time-domain
#   flows (--basis learned, squeeze 16, 8 blocks). Stage 1: maximum likelihood, 1500 steps, batch 32,
#   lr 1e-3 (~0.3 s/step on two cores); stage 2: + denoising score matching, 800 steps, lr 3e-4.
# All: sigma log-uniform on [0.01, 2] (a quarter of each batch near 0.01).
# SPECTRAL="sine" TIME="" trains a subset, e.g. two sources side by side, each pinned with taskset.
set -euo pipefail
OUT=${OUT:-priorsep/priors/bundled/toy}
WORK=${WORK:-priors-work/toy}
SPECTRAL=${SPECTRAL-sine triangle}
TIME=${TIME-square sawtooth}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
mkdir -p "$OUT" "$WORK"
common=(--data toy --sigma-min 0.01 --sigma-max 2.0 --quiet)
for src in $SPECTRAL; do
  priorsep train-prior --kind flow --basis dct --squeeze 256 --n-blocks 6 --hidden 64 --n-layers 4 \
    --source "$src" --out "$WORK/$src" --steps 1500 --batch-size 16 --crop 4096 --lr 1e-3 --seed 0 \
    --dsm-weight 1.0 "${common[@]}"
  priorsep train-prior --source "$src" --init "$WORK/$src" --out "$OUT/$src" --steps 1500 --batch-size 16 \
    --crop 4096 --lr 5e-4 --seed 1 --dsm-weight 1.0 "${common[@]}"
done
for src in $TIME; do
  priorsep train-prior --kind flow --basis learned --squeeze 16 --n-blocks 8 --hidden 32 --n-layers 5 \
    --source "$src" --out "$WORK/$src" --steps 1500 --batch-size 32 --crop 2048 --lr 1e-3 --seed 0 "${common[@]}"
  priorsep train-prior --source "$src" --init "$WORK/$src" --out "$OUT/$src" --steps 800 --batch-size 16 \
    --crop 2048 --lr 3e-4 --seed 1 --dsm-weight 1.0 "${common[@]}"
done
printf '{"sources": ["sine", "square", "sawtooth", "triangle"]}\n' > "$OUT/priorset.json"
