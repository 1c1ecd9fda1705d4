#!/usr/bin/env bash
# Issue 6 must-reach: a 3-minute stereo 44.1 kHz file separates end to end from the CLI with
# bounded memory. Renders one 180 s band track, makes it a 44.1 kHz stereo file (the stems panned
# apart), then separates it with each METHOD under /usr/bin/time (peak RSS, wall time).
# METHODS: any of waveunet (waveunet-band baseline), variational (toy priors' encoder), langevin
# (band priors; LANGEVIN_ARGS, default a short schedule: the full one takes hours on a CPU).
set -euo pipefail
WORK=${WORK:-priors-work/long-stereo}
METHODS=${METHODS:-waveunet langevin}
LANGEVIN_ARGS=${LANGEVIN_ARGS:---n-levels 2 --steps-per-level 2}
LANGEVIN_PRIORS=${LANGEVIN_PRIORS:-band}
mkdir -p "$WORK"
priorsep data band --out "$WORK/band" --tracks 0 --test-tracks 1 --seconds 180 --seed 9 --quiet
python - "$WORK" <<'PY'
import sys
from pathlib import Path
import numpy as np
from scipy.signal import resample_poly
from priorsep.data.audio import read_audio, write_audio
work = Path(sys.argv[1])
track = next((work / "band" / "test").iterdir())
pan = {"bass": 0.5, "drums": 0.5, "guitar": 0.2, "piano": 0.8}  # share of the right channel
stereo = sum(np.array([[1 - p], [p]]) * 2 * read_audio(track / f"{s}.wav")[0][0] for s, p in pan.items())
stereo = resample_poly(stereo, 441, 160, axis=-1).astype(np.float32)
write_audio(work / "song44k.wav", stereo / max(1.0, np.abs(stereo).max() / 0.99), 44100)
print(f"wrote {work / 'song44k.wav'}: {stereo.shape[0]} channels, {stereo.shape[1] / 44100:.1f} s at 44100 Hz")
PY
for method in $METHODS; do
  case $method in
    waveunet) args=(--method baseline --model waveunet-band) ;;
    variational) args=(--method variational --priors toy) ;;
    langevin) args=(--method langevin --priors "$LANGEVIN_PRIORS" $LANGEVIN_ARGS) ;;
  esac
  rm -rf "$WORK/out-$method"
  /usr/bin/time -v priorsep separate "$WORK/song44k.wav" --resample --out "$WORK/out-$method" "${args[@]}" \
    2> "$WORK/time-$method.txt"
  grep -E "Elapsed|Maximum resident" "$WORK/time-$method.txt" | sed "s/^/$method: /"
done
