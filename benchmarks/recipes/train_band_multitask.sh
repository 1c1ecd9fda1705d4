#!/usr/bin/env bash
# Trains the shared-encoder multitask separator (seed 001; priorsep.baselines.multitask) on the synthetic
# band training tracks (FluidR3_GM, benchmarks/recipes/make_band_data.sh) twice, as the paper compares:
#   interleaved-band:  interleaved mini-batches of four per-source databases of (mix, one target) crops
#                      drawn from disjoint quarters of the tracks (no mix has two stems in the data);
#   simultaneous-band: every target of each mix at once (all stems of every track).
# Equal supervision: the interleaved run takes K = 4 times the steps, one source's target per step, so
# both see the same number of (mix, target) pairs. About 0.25 s per interleaved step and 1.2 s per
# simultaneous step on the 2-core machine (~17 and ~20 min). Resumable: rerun after an interruption.
# Then: cp $OUT/interleaved-band.{pt,json} priorsep/baselines/bundled/
set -euo pipefail
DATA=${DATA:-priors-work/band-data}
ROOT=${ROOT:-$DATA/fluidr3}
OUT=${OUT:-priors-work}
STEPS=${STEPS:-1000}  # simultaneous steps; interleaved: 4x
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
# 4 downsampling stages of 8 -> 128 feature maps (1.08 M parameters, a 4.3 MB checkpoint; the default 5 stages
# make 3.1 M)
common=(--resume --data musdb --musdb-root "$ROOT" --sources bass drums guitar piano --batch-size 8 --levels 4
        --patience 10 --lr 5e-4 --seed 0 --val-items 32 --quiet)
priorsep train-baseline --model interleaved --source-databases disjoint --steps $((4 * STEPS)) \
  --checkpoint-every 200 --out "$OUT/interleaved-band" "${common[@]}" "$@"
priorsep train-baseline --model simultaneous --steps "$STEPS" --checkpoint-every 50 \
  --out "$OUT/simultaneous-band" "${common[@]}" "$@"
