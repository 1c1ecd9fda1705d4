#!/usr/bin/env bash
# Trains the bundled "waveunet-toy" baseline (supervised Wave-U-Net on fresh toy mixes, early
# stopping on 64 held-out mixes). Resumable: rerun the same command after an interruption.
# Usage: OUT=priors-work benchmarks/train_toy_waveunet.sh   (then copy $OUT/waveunet-toy.{pt,json}
# to priorsep/baselines/bundled/)
set -euo pipefail
OUT=${OUT:-priors-work}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
priorsep train-baseline --model waveunet --data toy --levels 7 --features 16 --output-length 513 --norm batch \
  --steps 2500 --batch-size 48 --lr 2e-3 --checkpoint-every 200 --patience 10 --seed 0 \
  --out "$OUT/waveunet-toy" "$@"
