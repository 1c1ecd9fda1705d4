#!/usr/bin/env bash
# Recipe for the bundled toy-wavenet variational encoder, trained on toy *mixtures only* (no stems):
#  1. teacher estimates: the mask-space Langevin separator with the frozen WaveNet priors on N toy
#     training mixtures (seed 0; the benchmark's are seed 2026), each rated by the priors;
#  2. the wake update of q: a mask encoder fitted to remixes of the estimates the priors accept;
#  3. an ELBO stage (Pyro Trace_ELBO, frozen priors, mixtures only) from stage 2's encoder, with q's
#     std tied to sigma (annealed 0.05 -> 0.01), so q's draws are what the noise-conditioned priors model.
#  4. a per time-frequency-bin scale of the mask logits (train-posterior --mask-scale), trained by the
#     mask-space ELBO at the priors' sigma_min with stage 3's means fixed: draws that meet the mix.
# The bundled priorsep/priors/bundled/toy-wavenet/encoder.{pt,json} is "$OUT/encoder-scale" copied there
# (its means are stage 3's, "$OUT/encoder-elbo").
# Every stage resumes after a crash: rerun the script. Score with
#   python benchmarks/tools/variational_toy.py --priors toy-wavenet --encoder "$OUT/encoder-elbo" --n 16 --seeds 12,13,14,15,16,17
set -euo pipefail
PRIORS=${PRIORS:-toy-wavenet}
OUT=${OUT:-priors-work/toy-wavenet-teacher-encoder}
TEACHER=${TEACHER:-priors-work/teacher-4096}
N_MIXES=${N_MIXES:-140}
STEPS=${STEPS:-8000}
ELBO_STEPS=${ELBO_STEPS:-300}
SCALE_STEPS=${SCALE_STEPS:-600}
export MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
mkdir -p "$OUT"
python benchmarks/tools/write_teacher_labels.py --priors "$PRIORS" --n "$N_MIXES" --length 4096 --seed 0 --out "$TEACHER" --quiet
priorsep train-posterior --resume --priors "$PRIORS" --teacher "$TEACHER" --out "$OUT/encoder" \
  --architecture mask --steps "$STEPS" --batch-size 16 --crop 2048 --lr 1e-3 --hidden 32 --levels 6 --harmonics 0.5,1,2,3,4,5 --position \
  --init-scale 0.1 --seed 0 --checkpoint-every 250 --quiet
if [ "$ELBO_STEPS" -gt 0 ]; then
  priorsep train-posterior --resume --priors "$PRIORS" --data toy --init "$OUT/encoder" --out "$OUT/encoder-elbo" \
    --steps "$ELBO_STEPS" --batch-size 8 --crop 2048 --lr 1e-4 --sigma-start "${SIGMA_START:-0.05}" \
    --sigma-end 0.01 --gamma-scale 0.5 --tie-scale --seed 1 --checkpoint-every 50 --quiet
fi
if [ "$SCALE_STEPS" -gt 0 ]; then
  priorsep train-posterior --resume --priors "$PRIORS" --data toy --init "$OUT/encoder-elbo" --mask-scale \
    --out "$OUT/encoder-scale" --steps "$SCALE_STEPS" --batch-size 8 --crop 2048 --lr 1e-2 --sigma-start 0.01 \
    --sigma-end 0.01 --seed 2 --checkpoint-every 50 --quiet
fi
