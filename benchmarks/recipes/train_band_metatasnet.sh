#!/usr/bin/env bash
# Trains the bundled "metatasnet-band" baseline (seed 000; priorsep.baselines.metatasnet): Conv-TasNet
# extractors whose masking weights a generator predicts from instrument embeddings, SI-SNR plus the
# paper's auxiliary losses, on paired 8192-sample crops of the same synthetic band training tracks as the
# "band" priors (FluidR3_GM, benchmarks/recipes/make_band_data.sh), early stopping on crops of held-out
# training tracks. Scaled to the CPU (one stage, latent 64, 2 x 4 TCN blocks: see the module).
# Two stages: 1000 steps at lr 1e-3, then 1500 more from the first stage's best checkpoint at lr 5e-4
# (the first stage was still improving). About 0.4 s per step on the 2-core machine (~7 + ~10 min).
# Resumable: rerun after an interruption.
# INDEPENDENT=1 trains the paper's ablation (each instrument owns its masking weights) instead.
# Then: cp $OUT/metatasnet-band-s2.pt priorsep/baselines/bundled/metatasnet-band.pt (and the .json)
set -euo pipefail
DATA=${DATA:-priors-work/band-data}
ROOT=${ROOT:-$DATA/fluidr3}
OUT=${OUT:-priors-work}
STEPS=${STEPS:-1000}  # stage 1; stage 2: 1.5x
name=metatasnet-band
extra=()
if [[ "${INDEPENDENT:-0}" == 1 ]]; then name=metatasnet-independent-band; extra=(--independent); fi
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
common=(--resume --model metatasnet --data musdb --musdb-root "$ROOT" --sources bass drums guitar piano
        --batch-size 8 --checkpoint-every 100 --patience 10 --val-items 32 --quiet)
priorsep train-baseline "${common[@]}" --output-length 8192 --steps "$STEPS" --lr 1e-3 --seed 0 \
  --out "$OUT/$name" "${extra[@]}" "$@"
priorsep train-baseline "${common[@]}" --init "$OUT/$name" --steps $((3 * STEPS / 2)) --lr 5e-4 --seed 1 \
  --out "$OUT/$name-s2" "$@"
