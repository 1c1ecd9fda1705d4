#!/usr/bin/env bash
# Band data from several SoundFonts (the data of the band-priors work from 2026-12-05): training
# tracks whose stems each draw one of four General-MIDI SoundFonts or two drum kits, with stem
# gains within +-6 dB; a validation set of instruments no model trains on (csound's GM bank), for
# choosing settings; the test sets stay those of make_band_data.sh (FluidR3 = seen instruments,
# MuseScore = unseen, never trained on).
# Needs apt packages fluidsynth fluid-soundfont-gm timgm6mb-soundfont opl3-soundfont avldrums.lv2
# csound-soundfont (priorsep data band names the missing one). Resumable: finished tracks are kept.
# About 2.5 s of rendering per 30-s track on the 2-core dev machine.
set -euo pipefail
shopt -s nullglob  # no tracks yet (a dry run): no links
DATA=${DATA:-priors-work/band-data-multi}
TRACKS=${TRACKS:-400}
priorsep data band --out "$DATA/train" --tracks "$TRACKS" --test-tracks 0 --seconds 30 --seed 10 \
  --soundfont fluidr3 timgm6mb opl3 black-pearl red-zeppelin --stem-gain-db 6 --quiet
priorsep data band --out "$DATA/gmbank" --tracks 0 --test-tracks 12 --seconds 30 --seed 2 --soundfont gmbank --quiet
# Per-source folders of solo stems for train-prior --data DIR (links, no copies)
for src in bass drums guitar piano; do
  mkdir -p "$DATA/solo/$src"
  for t in "$DATA"/train/train/*/; do ln -sf "$(realpath "$t$src.wav")" "$DATA/solo/$src/$(basename "$t").wav"; done
done
