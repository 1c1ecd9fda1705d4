#!/usr/bin/env bash
# Recipe for the bundled toy-wavenet variational encoder, trained on toy *mixtures only* (no stems):
#  1. teacher estimates: the mask-space Langevin separator with the frozen WaveNet priors on N toy
#     training mixtures (seed 0; the benchmark's are seed 2026), each rated by the priors;
#  2. the wake update of q: a mask encoder fitted to remixes of the estimates the priors accept;
#  3. optional ELBO stage (Pyro Trace_ELBO, frozen priors, mixtures only) from stage 2's encoder.
# Every stage resumes after a crash: rerun the script. Score with
#   python benchmarks/variational_toy.py --priors toy-wavenet --encoder "$OUT/encoder" --n 16
set -euo pipefail
PRIORS=${PRIORS:-toy-wavenet}
OUT=${OUT:-priors-work/toy-wavenet-teacher-encoder}
TEACHER=${TEACHER:-priors-work/teacher-4096}
N_MIXES=${N_MIXES:-128}
STEPS=${STEPS:-4000}
ELBO_STEPS=${ELBO_STEPS:-0}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
mkdir -p "$OUT"
python benchmarks/write_teacher_labels.py --priors "$PRIORS" --n "$N_MIXES" --length 4096 --seed 0 --out "$TEACHER" --quiet
priorsep train-posterior --resume --priors "$PRIORS" --data toy --teacher "$TEACHER" --out "$OUT/encoder" \
  --architecture mask --steps "$STEPS" --batch-size 16 --crop 2048 --lr 1e-3 --hidden 32 --levels 6 \
  --init-scale 0.1 --seed 0 --checkpoint-every 250 --quiet
if [ "$ELBO_STEPS" -gt 0 ]; then
  priorsep train-posterior --resume --priors "$PRIORS" --data toy --init "$OUT/encoder" --out "$OUT/encoder-elbo" \
    --steps "$ELBO_STEPS" --batch-size 8 --crop 2048 --lr 1e-4 --sigma-start "${SIGMA_START:-0.05}" \
    --sigma-end 0.01 --gamma-scale 0.5 --seed 1 --checkpoint-every 50 --quiet
fi
