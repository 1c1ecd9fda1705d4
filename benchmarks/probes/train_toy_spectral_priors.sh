#!/usr/bin/env bash
# Experimental: spectral flow priors for the toy sources (not the bundled set; see README "Results").
# Resumable: rerun after a crash.
#
# --basis dct: frames of 256 samples -> orthonormal DCT -> 6 coupling blocks whose conditioners see
# across frequency and frames. Maximum likelihood + denoising score matching from the start, sigma
# log-uniform on [0.01, 2] (a quarter of each batch near 0.01). Stage 1: 1500 steps at lr 1e-3;
# stage 2: 1500 more at lr 5e-4 (fresh cosine schedule, new seed). ~0.35 s/step on one core of the
# 2-core dev machine: ~9 minutes per source and stage.
# SOURCES="sine square" trains a subset, e.g. two sources side by side, each pinned with taskset.
set -euo pipefail
OUT=${OUT:-priors-work/toy-spectral}
WORK=${WORK:-priors-work/toy-spectral-stage1}
SOURCES=${SOURCES:-sine square sawtooth triangle}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
mkdir -p "$OUT" "$WORK"
common=(--data toy --batch-size 16 --crop 4096 --sigma-min 0.01 --sigma-max 2.0 --dsm-weight 1.0 --quiet)
for src in $SOURCES; do
  priorsep train-prior --resume --kind flow --basis dct --squeeze 256 --n-blocks 6 --hidden 64 --n-layers 4 \
    --source "$src" --out "$WORK/$src" --steps 1500 --lr 1e-3 --seed 0 "${common[@]}"
  priorsep train-prior --resume --source "$src" --init "$WORK/$src" --out "$OUT/$src" --steps 1500 --lr 5e-4 --seed 1 \
    "${common[@]}"
done
printf '{"sources": ["sine", "square", "sawtooth", "triangle"]}\n' > "$OUT/priorset.json"
