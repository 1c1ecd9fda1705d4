#!/usr/bin/env bash
# Trains the bundled "metatasnet-band" baseline (seed 000; priorsep.baselines.metatasnet): Conv-TasNet
# extractors whose masking weights a generator predicts from instrument embeddings, SI-SNR plus the
# paper's auxiliary losses, on paired 8192-sample crops of the same synthetic band training tracks as the
# "band" priors (FluidR3_GM, benchmarks/recipes/make_band_data.sh), early stopping on crops of held-out
# training tracks. Scaled to the CPU (one stage, latent 64, 2 x 4 TCN blocks: see the module).
# About 1 s per step on the 2-core machine (1000 steps: ~17 min). Resumable: rerun after an interruption.
# INDEPENDENT=1 trains the paper's ablation (each instrument owns its masking weights) instead.
# Then: cp $OUT/metatasnet-band.{pt,json} priorsep/baselines/bundled/
set -euo pipefail
DATA=${DATA:-priors-work/band-data}
ROOT=${ROOT:-$DATA/fluidr3}
OUT=${OUT:-priors-work}
STEPS=${STEPS:-1000}
name=metatasnet-band
extra=()
if [[ "${INDEPENDENT:-0}" == 1 ]]; then name=metatasnet-independent-band; extra=(--independent); fi
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
priorsep train-baseline --resume --model metatasnet --data musdb --musdb-root "$ROOT" \
  --sources bass drums guitar piano --batch-size 8 --checkpoint-every 100 --patience 10 \
  --output-length 8192 --steps "$STEPS" --lr 1e-3 --seed 0 --val-items 32 \
  --out "$OUT/$name" --quiet "${extra[@]}" "$@"
