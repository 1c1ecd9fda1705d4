#!/usr/bin/env bash
# Trains the toy FactorGAN baseline (seed 002, section 3.3.2.4): a masking U-Net trained only
# adversarially -- one marginal discriminator per source on unpaired solo crops (unlimited), p- and
# q-dependency discriminators, the p one on --paired distinct paired items (its only use of them).
# Architecture: the FactorGAN defaults (priorsep/baselines/factorgan.py DEFAULTS: n_fft 1024, hop 256,
# 9-frame crops of 2048 samples, a HarmonicUNet generator with 32 channels and 6 frequency poolings on
# the stacked log-power, log-band discriminators with 49-band template convs). Training: the
# train_factorgan defaults (one D step per G step, Adam(0.5, 0.999), cosine decay, R1 1.0, weight
# average 0.998); --d-lr, --r1, --aux-negatives and --d-warmup change them.
# STATUS: no run of this recipe separates the toy data yet (issue 5 open). Every adversarial run so far
# collapsed within a few hundred generator steps: the slots of the sparse sources went silent
# (benchmarks/results/baselines/README.md; benchmarks/factorgan_training_probe.py reproduces it).
# About 0.35-0.5 s per step on two cores. Resumable: rerun the same command after an interruption.
# Usage: OUT=priors-work benchmarks/train_toy_factorgan.sh
set -euo pipefail
OUT=${OUT:-priors-work}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
priorsep train-baseline --resume --model factorgan --data toy --paired 1000 --steps 3800 --batch-size 16 --lr 2e-4 \
  --checkpoint-every 200 --seed 0 --out "$OUT/factorgan-toy" "$@"
