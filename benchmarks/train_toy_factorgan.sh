#!/usr/bin/env bash
# Trains the toy FactorGAN baseline (seed 002, section 3.3.2.4): a masking U-Net trained only
# adversarially -- one marginal discriminator per source on unpaired solo crops (unlimited), p- and
# q-dependency discriminators, the p one on --paired distinct paired items (its only use of them).
# Architecture: the FactorGAN defaults (priorsep/baselines/factorgan.py DEFAULTS: n_fft 512, hop 128,
# 8-frame crops of 896 samples, 5-level U-Net with 8..32 channels plus a log-band harmonic front end,
# log-band discriminators with 49-band template convs). Training: the train_factorgan defaults
# (one D step per G step, Adam(0.5, 0.999) at the same lr for G and D, cosine decay to 10%,
# R1 penalty 1.0, generator weight average 0.998).
# About 0.9 s per step on one CPU core (~57 min). Resumable: rerun the same command after an interruption.
# Usage: OUT=priors-work benchmarks/train_toy_factorgan.sh
set -euo pipefail
OUT=${OUT:-priors-work}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
priorsep train-baseline --resume --model factorgan --data toy --paired 1000 --steps 3800 --batch-size 16 --lr 2e-4 \
  --checkpoint-every 200 --seed 0 --out "$OUT/factorgan-toy" "$@"
