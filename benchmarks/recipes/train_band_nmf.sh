#!/usr/bin/env bash
# Trains the bundled "nmf-band" separator: one NMF dictionary per band source (32 spectral shapes,
# STFT of 2048 samples, hop 512, beta-divergence 0.5), each learnt from 128 solo crops of 4 s of that
# source alone, from the synthetic band training tracks (FluidR3_GM, benchmarks/recipes/make_band_data.sh;
# the same stems as the band priors and the supervised baselines). No mixture is ever seen.
# About 2.5 min in all on this 2-core machine (200 multiplicative updates per source).
# Settings chosen on the GM-bank validation tracks (benchmarks/results/band_nmf/README.md).
# Resumable: rerun the same command after an interruption (it continues after the last finished source).
# Then: cp $OUT/nmf-band.pt priorsep/baselines/bundled/ (and the .json)
set -euo pipefail
DATA=${DATA:-priors-work/band-data}
ROOT=${ROOT:-$DATA/fluidr3}
OUT=${OUT:-priors-work}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
priorsep train-baseline --resume --model nmf --data musdb --musdb-root "$ROOT" \
  --sources bass drums guitar piano --n-fft 2048 --hop 512 --rank 32 --beta 0.5 --steps 200 --solo-crops 128 \
  --seed 0 --out "$OUT/nmf-band" --quiet "$@"
