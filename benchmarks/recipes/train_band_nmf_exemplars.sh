#!/usr/bin/env bash
# Draws the bundled "nmf-exemplars-band" separator: for each band source, RANK non-silent windows of 4
# consecutive STFT frames (2048 samples, hop 512) of that source's solo crops, picked spread out (each
# next window drawn with a probability proportional to its squared distance from the nearest one picked, as
# k-means++ seeds its centres; random picks scored 0.5 dB less on validation), are its NMF
# dictionary (exemplars: nothing is learnt), from 256 solo crops of 4 s of the multi-SoundFont band
# training tracks (benchmarks/recipes/make_band_data_multi.sh with TRACKS=96: FluidR3, TimGM6mb, OPL3,
# two drum kits; never a MuseScore SoundFont). No mixture is ever seen. Separation: 100 activation
# updates with an L1 weight of 0.3 x the mix's mean magnitude, masks of power 1. Stored as float16 (half the file).
# Settings, the pick and the draw (--seed 1, the best of seeds 0-2) chosen on the GM-bank validation tracks
# (benchmarks/results/band_nmf_context/README.md).
# About a minute on this 2-core machine. Resumable: rerun the same command after an interruption.
# Then: cp $OUT/nmf-exemplars-band.{pt,json} priorsep/baselines/bundled/
set -euo pipefail
DATA=${DATA:-priors-work/band-data-multi}
ROOT=${ROOT:-$DATA/train}
OUT=${OUT:-priors-work/nmf}
RANK=${RANK:-512}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
priorsep train-baseline --resume --model nmf --data musdb --musdb-root "$ROOT" \
  --sources bass drums guitar piano --n-fft 2048 --hop 512 --context 4 --rank "$RANK" --solo-crops 256 --exemplars spread \
  --beta 0.5 --iterations 100 --sparsity 0.3 --storage float16 --seed 1 --out "$OUT/nmf-exemplars-band" --quiet "$@"
