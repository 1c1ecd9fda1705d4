#!/usr/bin/env bash
# FactorGAN in its own regime on the band stems (seed 002, section 3.3.2.4): few paired tracks plus
# unpaired solo stems, against the same generator trained supervised on the paired tracks alone.
# Data: the synthetic band training tracks (FluidR3_GM, benchmarks/recipes/make_band_data.sh; the same
# as the "band" priors'): of the 39 tracks of the training split, the first PAIRED_TRACKS are paired
# (mix, stems) data, the other 39 - PAIRED_TRACKS give the unpaired solo stems (train-baseline
# --paired-tracks); 64 crops of the 9 held-out validation tracks select the saved checkpoint.
# Architecture: the FactorGAN defaults (priorsep/baselines/factorgan.py DEFAULTS; n_fft 1024, hop 256,
# 2048-sample crops at 16 kHz).
# MODE=factorgan (default), 2000 steps of batch 16: 1500 supervised generator steps on the paired crops
#   (MSE, Adam 1e-3), 50 discriminator-only steps, 450 adversarial steps with the paired MSE kept as an
#   anchor (weight 100): the bundled factorgan-toy's schedule (benchmarks/recipes/train_toy_factorgan.sh),
#   shortened to fit three paired counts on the 2-core machine.
# MODE=supervised: the twin, its 1500 supervised steps only (exactly the factorgan run's first stage:
#   same seed, same batches), so the two differ only by the adversarial stage on the unpaired stems.
# Both keep the weight average with the best validation SI-SDRi (scored every 100 steps).
# About 0.25 s per supervised step and 1 s per adversarial step on one core (factorgan ~16 min,
# supervised ~8 min). Resumable: rerun the same command.
# Usage: PAIRED_TRACKS=8 MODE=factorgan benchmarks/recipes/train_band_factorgan.sh
# The bundled factorgan-band: PAIRED_TRACKS=8 MODE=factorgan; then
#   cp $OUT/factorgan-band-p8.pt priorsep/baselines/bundled/factorgan-band.pt (and the .json)
set -euo pipefail
DATA=${DATA:-priors-work/band-data}
ROOT=${ROOT:-$DATA/fluidr3}
OUT=${OUT:-priors-work}
PAIRED_TRACKS=${PAIRED_TRACKS:-8}
MODE=${MODE:-factorgan}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
common=(--resume --model factorgan --data musdb --musdb-root "$ROOT" --sources bass drums guitar piano
        --paired-tracks "$PAIRED_TRACKS" --batch-size 16 --val-items 64 --checkpoint-every 100
        --supervised-steps 1500 --supervised-lr 1e-3 --seed 0 --quiet)
case "$MODE" in
  factorgan) priorsep train-baseline "${common[@]}" --steps 2000 --d-warmup 50 --lr 5e-5 --d-lr 4e-4 \
               --aux-negatives 0.5 --supervised-weight 100 --out "$OUT/factorgan-band-p$PAIRED_TRACKS" "$@" ;;
  supervised) priorsep train-baseline "${common[@]}" --steps 1500 --d-warmup 0 \
                --out "$OUT/factorgan-supervised-band-p$PAIRED_TRACKS" "$@" ;;
  *) echo "MODE must be factorgan or supervised, got $MODE" >&2; exit 2 ;;
esac
