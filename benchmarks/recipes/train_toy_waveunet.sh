#!/usr/bin/env bash
# Trains the bundled "waveunet-toy" baseline: supervised Wave-U-Net on fresh toy mixes (every item
# new, so the paired-item count is steps x batch), early stopping on 64 held-out mixes.
# Stage 1: 2500 steps, lr 2e-3 (cosine to 10%); each further stage (new seed = new items) runs 1500
# steps from the previous stage's best checkpoint: stage 2 at lr 1e-3, stage 3 at 5e-4, stage 4 at
# 2.5e-4. Stages 1-2 took about 1.15 s per step on one CPU core (~80 min); stages 3-4 took 5.3 min
# each on two cores (0.21 s per step). Median SI-SDRi on the 64 bench mixes after stage 2 / 3 / 4:
# 11.87 / 13.39 / 14.04 dB. Resumable: rerun the same command after an interruption.
# Usage: OUT=priors-work benchmarks/recipes/train_toy_waveunet.sh
#        cp $OUT/waveunet-toy-s4.pt priorsep/baselines/bundled/waveunet-toy.pt (and the .json)
set -euo pipefail
OUT=${OUT:-priors-work}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
common=(--model waveunet --data toy --batch-size 48 --checkpoint-every 200 --patience 10 "$@")
priorsep train-baseline --resume "${common[@]}" --levels 7 --features 16 --output-length 513 --norm batch \
  --steps 2500 --lr 2e-3 --seed 0 --out "$OUT/waveunet-toy"
priorsep train-baseline --resume "${common[@]}" --init "$OUT/waveunet-toy" --steps 1500 --lr 1e-3 --seed 1 \
  --out "$OUT/waveunet-toy-s2"
priorsep train-baseline --resume "${common[@]}" --init "$OUT/waveunet-toy-s2" --steps 1500 --lr 5e-4 --seed 2 \
  --out "$OUT/waveunet-toy-s3"
priorsep train-baseline --resume "${common[@]}" --init "$OUT/waveunet-toy-s3" --steps 1500 --lr 2.5e-4 --seed 3 \
  --out "$OUT/waveunet-toy-s4"
