#!/usr/bin/env bash
# Recipe for a mask-space variational encoder for the bundled "toy" flow priors, trained on toy
# *mixtures only* (no stems) against the frozen flows by SVI (Pyro Trace_ELBO). The priors' sigma is
# annealed 0.1 -> 0.01 over the run, the range the flows' mask-space Langevin search uses
# (priorsep/priors/bundled/toy/priorset.json). Resumable: rerun after a crash.
# Then score it: python benchmarks/tools/variational_toy.py --priors toy --encoder "$OUT/encoder" --n 16
set -euo pipefail
OUT=${OUT:-priors-work/toy-mask-encoder}
STEPS=${STEPS:-2000}
SIGMA_START=${SIGMA_START:-0.1}
SIGMA_END=${SIGMA_END:-0.01}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
mkdir -p "$OUT"
priorsep train-posterior --resume --priors "${PRIORS:-toy}" --data toy --out "$OUT/" --architecture mask \
  --steps "$STEPS" --batch-size 8 --crop 2048 --lr 1e-3 --sigma-start "$SIGMA_START" --sigma-end "$SIGMA_END" \
  --gamma-scale 0.5 --hidden 32 --levels 6 --init-scale "${INIT_SCALE:-0.1}" --seed 0 --checkpoint-every 100 --quiet
