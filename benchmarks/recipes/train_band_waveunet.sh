#!/usr/bin/env bash
# Trains the bundled "waveunet-band" baseline: supervised Wave-U-Net on paired crops of the synthetic
# band training tracks (FluidR3_GM, benchmarks/recipes/make_band_data.sh), sum mixing, 16 kHz, early stopping
# on crops of held-out training tracks. About 1 s per step on one CPU core (2500 steps: ~45 min).
# Resumable: rerun the same command after an interruption.
# Then: cp $OUT/waveunet-band.pt priorsep/baselines/bundled/ (and the .json)
set -euo pipefail
DATA=${DATA:-priors-work/band-data}
ROOT=${ROOT:-$DATA/fluidr3}  # the multitrack folder (root/train/<track>/); make_band_data_multi.sh: $DATA/train
OUT=${OUT:-priors-work}
STEPS=${STEPS:-2500}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
priorsep train-baseline --resume --model waveunet --data musdb --musdb-root "$ROOT" \
  --sources bass drums guitar piano --batch-size 32 --checkpoint-every 200 --patience 10 \
  --levels 7 --features 16 --output-length 513 --norm batch --steps "$STEPS" --lr 2e-3 --seed 0 \
  --out "$OUT/waveunet-band" --quiet "$@"
