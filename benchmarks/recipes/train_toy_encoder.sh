#!/usr/bin/env bash
# Recipe for the bundled toy encoder (priorsep/priors/bundled/toy/encoder.*): amortised variational
# posteriors trained on toy *mixtures only* against the frozen bundled "toy" flow priors.
# ~0.48 s/step on one core of the 2-core dev machine (3000 steps: ~25 minutes). Resumable: rerun
# after a crash. Then copy OUT/encoder.pt and OUT/encoder.json into priorsep/priors/bundled/toy/.
set -euo pipefail
OUT=${OUT:-priors-work/toy-encoder}
STEPS=${STEPS:-3000}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
mkdir -p "$OUT"
priorsep train-posterior --resume --priors toy --data toy --out "$OUT/" --steps "$STEPS" \
  --batch-size 8 --crop 2048 --lr 1e-3 --sigma-start 0.5 --sigma-end 0.02 --gamma-scale 0.5 --seed 0 --quiet
