#!/usr/bin/env bash
# Recipe for the bundled band priors (priorsep/priors/bundled/band): one noise-conditioned flow per
# band source, trained independently on the solo stems of the synthetic band data rendered with
# FluidR3_GM (benchmarks/recipes/make_band_data.sh). Same two stages as the toy recipe, scaled to band
# levels (stems have an RMS of about 0.03): sigma log-uniform on [0.001, 0.5], sigma_data 0.05.
# Stage 1: maximum likelihood (1000 steps); stage 2: + denoising score matching (500 steps); about
# 0.5 s/step on one core of the 2-core dev machine, ~13 minutes per source. Resumable: rerun after a crash.
set -euo pipefail
DATA=${DATA:-priors-work/band-data}
OUT=${OUT:-priors-work/band-final}  # then copy NAME.pt/.json to priorsep/priors/bundled/band
WORK=${WORK:-priors-work/band}
STEPS=${STEPS:-1000}
DSM_STEPS=${DSM_STEPS:-500}
SOURCES=${SOURCES:-bass drums guitar piano}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
mkdir -p "$OUT" "$WORK/nll"
common=(--crop 2048 --sigma-min 0.001 --sigma-max 0.5 --mixing sum --quiet)
for src in $SOURCES; do
  priorsep train-prior --resume --kind flow --source "$src" --data "$DATA/solo/$src" --out "$WORK/nll/$src" \
    --sigma-data 0.05 --steps "$STEPS" --batch-size 32 --lr 1e-3 --seed 0 "${common[@]}"
  priorsep train-prior --resume --kind flow --source "$src" --data "$DATA/solo/$src" --init "$WORK/nll/$src" \
    --out "$OUT/$src" --steps "$DSM_STEPS" --batch-size 16 --lr 3e-4 --seed 1 --dsm-weight 1.0 "${common[@]}"
done
# the source order and the separation settings benchmarked with this set (benchmarks/results/band/),
# kept in one place: the bundled priorset.json
cp priorsep/priors/bundled/band/priorset.json "$OUT/priorset.json"
