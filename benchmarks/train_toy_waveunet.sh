#!/usr/bin/env bash
# Trains the bundled "waveunet-toy" baseline: supervised Wave-U-Net on fresh toy mixes (every item
# new, so the paired-item count is steps x batch), early stopping on 64 held-out mixes.
# Stage 1: 2500 steps, lr 2e-3 (cosine to 10%); stage 2 (new seed = new items): 1500 steps from
# stage 1's best checkpoint at lr 1e-3. About 1.15 s per step on one CPU core (~80 min in all).
# Resumable: rerun the same command after an interruption.
# Usage: OUT=priors-work benchmarks/train_toy_waveunet.sh
#        cp $OUT/waveunet-toy-s2.pt priorsep/baselines/bundled/waveunet-toy.pt (and the .json)
set -euo pipefail
OUT=${OUT:-priors-work}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
common=(--model waveunet --data toy --batch-size 48 --checkpoint-every 200 --patience 10 "$@")
priorsep train-baseline --resume "${common[@]}" --levels 7 --features 16 --output-length 513 --norm batch \
  --steps 2500 --lr 2e-3 --seed 0 --out "$OUT/waveunet-toy"
priorsep train-baseline --resume "${common[@]}" --init "$OUT/waveunet-toy" --steps 1500 --lr 1e-3 --seed 1 \
  --out "$OUT/waveunet-toy-s2"
