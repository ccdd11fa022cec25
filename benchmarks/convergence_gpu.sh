#!/usr/bin/env bash
# Train the `paper` preset and the shipped `cpu` preset on one GPU for as many steps as MINUTES of
# training each allows, then predict and evaluate the phantom test split; results under $OUT (or
# ./convergence-gpu-out), summarised in $OUT/convergence_gpu.json by benchmarks/convergence_summary.py.
#
# Each preset is first timed on 40 steps per phase (all three phases, validation included); its
# steps_per_phase is then MINUTES of its measured seconds per step, shared equally by the phases. The
# runs go one after the other so that neither slows the other's timing. The phantom cohort is generated
# here (seed 0: the bundled model's cohort).
#
# Every step that finished is kept in WORK (default ./convergence-gpu-work): the same command, run again
# after an interruption, continues where it stopped.
#
# Usage: bash benchmarks/convergence_gpu.sh [MINUTES] [PRESETS]     (defaults: 3, "paper cpu")
set -euo pipefail
MINUTES=${1:-3}
PRESETS=${2:-paper cpu}
OUT=${OUT:-convergence-gpu-out}
WORK=${WORK:-convergence-gpu-work}
DEVICE=${DEVICE:-cuda}
PY=${PYTHON:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$OUT/log.txt"; }
{ nvidia-smi -L || true; $PY -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"; } \
  >> "$OUT/log.txt" 2>&1
[ -d "$WORK/phantom" ] || $PY -m pscgan phantom generate --subjects 280 --seed 0 --out "$WORK/phantom" \
  >> "$OUT/log.txt" 2>&1
log "phantom ready"
for preset in $PRESETS; do
  cal="$WORK/calibrate-$preset"
  [ -f "$cal/model.safetensors" ] || $PY -m pscgan train --data "$WORK/phantom" --preset "$preset" --out "$cal" \
    --overwrite --device "$DEVICE" --set train.steps_per_phase=40 --set train.validation_interval=40 \
    --set train.checkpoint_interval=40 --set train.log_interval=10 >> "$OUT/log.txt" 2>&1
  steps=$($PY "$HERE/convergence_summary.py" "$cal" --steps-for-minutes "$MINUTES")
  log "$preset: $steps steps per phase"
  run="$WORK/run-$preset"
  if [ -d "$run/checkpoints" ] && [ ! -f "$run/model.safetensors" ]; then
    $PY -m pscgan train --resume "$run" --device "$DEVICE" >> "$OUT/log.txt" 2>&1
  elif [ ! -f "$run/model.safetensors" ]; then
    $PY -m pscgan train --data "$WORK/phantom" --preset "$preset" --out "$run" --device "$DEVICE" \
      --set train.steps_per_phase="$steps" --set train.validation_interval=$(( steps / 6 + 1 )) \
      --set train.checkpoint_interval=$(( steps / 6 + 1 )) >> "$OUT/log.txt" 2>&1
  fi
  log "$preset trained"
  $PY -m pscgan predict "$WORK/phantom" --split test --no-anatomy --device "$DEVICE" --overwrite \
    --weights "$run/model.safetensors" --out "$WORK/pred-$preset" >> "$OUT/log.txt" 2>&1
  $PY -m pscgan evaluate "$WORK/pred-$preset" "$WORK/phantom" --overwrite >> "$OUT/log.txt" 2>&1
  mkdir -p "$OUT/$preset"
  cp "$run/config.json" "$run/environment.json" "$run/metrics.jsonl" "$run/train.log" "$OUT/$preset/"
  cp "$WORK/pred-$preset/evaluation/evaluation.json" "$WORK/pred-$preset/evaluation/table1.md" \
    "$WORK/pred-$preset/evaluation/table2.md" "$OUT/$preset/"
  log "$preset evaluated"
done
$PY "$HERE/convergence_summary.py" "$OUT" --command "bash benchmarks/convergence_gpu.sh $MINUTES \"$PRESETS\"" \
  >> "$OUT/log.txt" 2>&1
log "done"
