#!/usr/bin/env bash
# Trains the bundled toy FactorGAN baseline `factorgan-toy` (seed 002, section 3.3.2.4, with two
# deviations named below). Data: unpaired solo crops for the marginal discriminators (unlimited),
# --paired 1000 distinct paired (mix, stems) items of 16384 samples, 64 other paired items for
# validation (not counted in --paired, as for Wave-U-Net).
# Architecture: the FactorGAN defaults (priorsep/baselines/factorgan.py DEFAULTS: n_fft 1024, hop 256,
# 9-frame crops of 2048 samples, a HarmonicUNet generator with 32 channels and 6 frequency poolings on
# the stacked log-power plus a noise channel; spectrally normalised log-band discriminators).
# Training (priorsep.training.factorgan.train_factorgan), 3000 steps of batch 16:
#   1. steps 0-1999: the generator alone fits the stems of the 1000 paired items (MSE, Adam 1e-3,
#      cosine decay) -- deviation 1, a supervised warm start: from uniform masks every purely
#      adversarial run collapsed (benchmarks/results/baselines/README.md);
#   2. steps 2000-2099: the discriminators alone (marginal, p-dependency on the same paired items,
#      q-dependency), Adam 4e-4, half of the marginal negatives auxiliary (other/leaky/quiet sources);
#   3. steps 2100-2999: adversarial (one D step per G step, G Adam 5e-5, no R1) with the paired MSE
#      kept in the generator loss at weight 100 -- deviation 2, an anchor: without it the sine's slot
#      went silent within 100 generator steps, from any supervised start we tried.
# The saved separator is the weight average (0.998) with the best median SI-SDRi on the validation
# items, scored every 100 steps. About 17 min on two cores. Resumable: rerun the same command.
# The training flags below are also train-baseline's defaults for --model factorgan (a test checks
# them against this checkpoint's recorded config); they are spelled out to keep the recipe fixed.
# Usage: OUT=priors-work benchmarks/recipes/train_toy_factorgan.sh
set -euo pipefail
OUT=${OUT:-priors-work}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
priorsep train-baseline --resume --model factorgan --data toy --paired 1000 --val-items 64 --steps 3000 \
  --batch-size 16 --supervised-steps 2000 --supervised-lr 1e-3 --d-warmup 100 --lr 5e-5 --d-lr 4e-4 \
  --aux-negatives 0.5 --r1 0 --supervised-weight 100 --checkpoint-every 100 --seed 0 --out "$OUT/factorgan-toy" "$@"
