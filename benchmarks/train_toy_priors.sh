#!/usr/bin/env bash
# Recipe for the bundled toy priors (priorsep/priors/bundled/toy). Resumable: rerun after a crash.
# Measured on the 2-core dev machine: ~0.22 s/step, i.e. ~8 minutes per source.
set -euo pipefail
OUT=${OUT:-priorsep/priors/bundled/toy}
STEPS=${STEPS:-2000}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
mkdir -p "$OUT"
for src in sine square sawtooth triangle; do
  priorsep train-prior --kind flow --source "$src" --data toy --out "$OUT/$src" \
    --steps "$STEPS" --batch-size 32 --crop 2048 --sigma-min 0.01 --sigma-max 2.0 --lr 1e-3 --seed 0 --quiet
done
printf '{"sources": ["sine", "square", "sawtooth", "triangle"]}\n' > "$OUT/priorset.json"
