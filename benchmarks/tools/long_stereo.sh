#!/usr/bin/env bash
# Issue 6 must-reach: a 3-minute stereo 44.1 kHz file separates end to end from the CLI with
# bounded memory. Renders one 180 s band track, makes it a 44.1 kHz stereo file (the stems panned
# apart), then separates it with each METHOD under /usr/bin/time (peak RSS, wall time).
# METHODS: any of waveunet (waveunet-band baseline), variational (toy priors' encoder), langevin
# (band priors; LANGEVIN_ARGS, default the band set's own settings). Each output is scored against the
# panned stems by tools/score_song.py (SI-SDRi over 4-s windows, 2-s hop), time and memory included.
# TAG names the outputs of one setting (out-METHOD$TAG, time-, score-), for curves over settings.
set -euo pipefail
WORK=${WORK:-priors-work/long-stereo}
METHODS=${METHODS:-waveunet langevin}
LANGEVIN_ARGS=${LANGEVIN_ARGS:-}
LANGEVIN_PRIORS=${LANGEVIN_PRIORS:-band}
TAG=${TAG:-}
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
stems = {s: resample_poly(np.array([[1 - p], [p]]) * 2 * read_audio(track / f"{s}.wav")[0][0], 441, 160, axis=-1)
         for s, p in pan.items()}
stereo = sum(stems.values())
gain = 1 / max(1.0, np.abs(stereo).max() / 0.99)
write_audio(work / "song44k.wav", (stereo * gain).astype(np.float32), 44100)
(work / "song44k-stems").mkdir(exist_ok=True)
for s, x in stems.items():  # the references the estimates are scored against (score_song.py)
    write_audio(work / "song44k-stems" / f"{s}.wav", (x * gain).astype(np.float32), 44100)
print(f"wrote {work / 'song44k.wav'}: {stereo.shape[0]} channels, {stereo.shape[1] / 44100:.1f} s at 44100 Hz")
PY
for method in $METHODS; do
  case $method in
    waveunet) args=(--method baseline --model waveunet-band) ;;
    variational) args=(--method variational --priors toy) ;;
    langevin) args=(--method langevin --priors "$LANGEVIN_PRIORS" $LANGEVIN_ARGS) ;;
  esac
  run=$method$TAG
  rm -rf "$WORK/out-$run"
  /usr/bin/time -v priorsep separate "$WORK/song44k.wav" --resample --out "$WORK/out-$run" "${args[@]}" \
    2> "$WORK/time-$run.txt"
  grep -E "Elapsed|Maximum resident" "$WORK/time-$run.txt" | sed "s/^/$run: /"
  python benchmarks/tools/score_song.py --mix "$WORK/song44k.wav" --stems "$WORK/song44k-stems" \
    --estimates "$WORK/out-$run" --time "$WORK/time-$run.txt" --label "$method ${args[*]}" \
    --out "$WORK/score-$run.json"
done
