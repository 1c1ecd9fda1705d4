#!/usr/bin/env bash
# Trains the bundled "spectral-vae-band" separator: per band source, a VAE over windows of 4 consecutive
# magnitude STFT frames (2048 samples, hop 512: 224 ms of audio per window), learnt from 256 solo crops of 4 s
# of that source alone, from the multi-SoundFont band training tracks (benchmarks/recipes/make_band_data_multi.sh
# with TRACKS=96: FluidR3, TimGM6mb, OPL3, two avldrums kits; never a MuseScore SoundFont). No mixture and no
# other source is ever seen. Separation fits every source's latents and gains per window to the mix (200 Adam
# steps from the encoders' reading of the mix, the latents' prior weighted 0.3), then splits it by ratio masks.
# Settings chosen on the GM-bank validation tracks (benchmarks/results/band_vae/README.md).
# Stored as float16 (half the file). HIDDEN sets the widest layer (the bundled model: 512; 256 scored 0.5 dB lower per estimate on validation).
# About 9 minutes on this 2-core machine. Resumable: rerun the same command after an interruption.
# Then: cp $OUT/spectral-vae-band.{pt,json} priorsep/baselines/bundled/
set -euo pipefail
DATA=${DATA:-priors-work/band-data-multi}
ROOT=${ROOT:-$DATA/train}
OUT=${OUT:-priors-work/spectral-vae}
HIDDEN=${HIDDEN:-512}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
priorsep train-baseline --resume --model spectral-vae --data musdb --musdb-root "$ROOT" \
  --sources bass drums guitar piano --n-fft 2048 --hop 512 --context 4 --latent 32 --hidden "$HIDDEN" \
  --steps 2000 --batch-size 256 --lr 1e-3 --kl 0.3 --beta 0.5 --solo-crops 256 --iterations 200 --fit-lr 0.05 \
  --prior-weight 0.3 --storage float16 --seed 0 --out "$OUT/spectral-vae-band" --quiet "$@"
