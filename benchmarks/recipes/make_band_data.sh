#!/usr/bin/env bash
# The synthetic band data behind the bundled "band" priors and "waveunet-band" baseline, and the
# held-out test tracks rendered with a *different* SoundFont (other instrument recordings).
# Needs apt packages fluidsynth fluid-soundfont-gm musescore-general-soundfont-small (make install).
# Resumable: finished tracks are kept.
set -euo pipefail
DATA=${DATA:-priors-work/band-data}
TRACKS=${TRACKS:-48}
priorsep data band --out "$DATA/fluidr3" --tracks "$TRACKS" --test-tracks 12 --seconds 30 --seed 0 --soundfont fluidr3 --quiet
priorsep data band --out "$DATA/musescore" --tracks 0 --test-tracks 12 --seconds 30 --seed 1 --soundfont musescore --quiet
# Per-source folders of solo stems for train-prior --data DIR (links, no copies)
for src in bass drums guitar piano; do
  mkdir -p "$DATA/solo/$src"
  for t in "$DATA"/fluidr3/train/*/; do ln -sf "$(realpath "$t$src.wav")" "$DATA/solo/$src/$(basename "$t").wav"; done
done
