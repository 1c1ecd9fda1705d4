#!/usr/bin/env bash
# Trains the bundled "demucs-band" baseline: the demucs package's waveform Demucs (pip install
# 'priorsep[peers]'), scaled to the CPU (depth 4, 24 first-layer channels, DConv LSTM in the deepest
# layer only, no resampling; priorsep.baselines.peer_demucs), supervised (MSE) on paired 16384-sample
# crops of the same synthetic band training tracks as the "band" priors and "waveunet-band"
# (FluidR3_GM, benchmarks/recipes/make_band_data.sh), early stopping on crops of held-out training
# tracks. About 1 s per step on the 2-core machine (1500 steps: ~25 min).
# Resumable: rerun the same command after an interruption.
# Then: cp $OUT/demucs-band.pt priorsep/baselines/bundled/ (and the .json)
set -euo pipefail
DATA=${DATA:-priors-work/band-data}
ROOT=${ROOT:-$DATA/fluidr3}
OUT=${OUT:-priors-work}
STEPS=${STEPS:-1500}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
priorsep train-baseline --resume --model demucs --data musdb --musdb-root "$ROOT" \
  --sources bass drums guitar piano --batch-size 8 --checkpoint-every 100 --patience 10 \
  --levels 4 --features 24 --output-length 16384 --steps "$STEPS" --lr 5e-4 --seed 0 \
  --out "$OUT/demucs-band" --quiet "$@"
