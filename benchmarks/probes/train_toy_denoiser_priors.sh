#!/usr/bin/env bash
# Denoiser priors for the toy sources: STFT complex-mask denoisers (diffusion-style score networks)
# trained by denoising alone (EDM-weighted MSE), sigma log-uniform on [0.01, SIGMA_MAX] (a quarter
# near 0.01), crops of 4096, batch 8. ~0.45 s/step on one core of the 2-core dev machine.
# Resumable: rerun after a crash. INIT=DIR fine-tunes DIR/<source> instead of starting fresh (a
# second stage, e.g. a wider sigma range).
set -euo pipefail
OUT=${OUT:-priors-work/toy-denoiser}
# harmonic stacking: each STFT bin also sees its sub-harmonics and harmonics (what tells the sources apart)
HARMONICS=${HARMONICS:-0.2 0.25 0.333 0.5 1 2 3 4 5}
STEPS=${STEPS:-600}
SIGMA_MAX=${SIGMA_MAX:-2.0}
LR=${LR:-1e-3}
SOURCES=${SOURCES:-sine square sawtooth triangle}
# fraction of each batch trained off the data manifold (source at a reduced level + generic tones)
OFF_MANIFOLD=${OFF_MANIFOLD:-0}
INIT=${INIT:-}
GLOBAL_CONTEXT=${GLOBAL_CONTEXT:-1}  # 0: the local network of the first runs
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
mkdir -p "$OUT"
for src in $SOURCES; do
  if [ -n "$INIT" ]; then from=(--init "$INIT/$src"); else from=(--harmonics $HARMONICS); fi
  if [ -z "$INIT" ] && [ "$GLOBAL_CONTEXT" = 1 ]; then from+=(--global-context); fi
  priorsep train-prior --resume --kind denoiser --source "$src" --data toy --out "$OUT/$src" --steps "$STEPS" \
    --batch-size 8 --crop 4096 --checkpoint-every 100 --sigma-min 0.01 --sigma-max "$SIGMA_MAX" --lr "$LR" --seed 0 \
    --quiet --off-manifold "$OFF_MANIFOLD" "${from[@]}"
done
printf '{"sources": ["sine", "square", "sawtooth", "triangle"]}\n' > "$OUT/priorset.json"
