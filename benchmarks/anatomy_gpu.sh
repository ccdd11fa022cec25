#!/usr/bin/env bash
# Train the anatomy network (and two ablations) on one GPU; results under $OUT (or ./anatomy-gpu-out).
#
# Inputs, made beforehand on any machine from the ACDC ED/ES folder (CC BY-NC-SA 4.0):
#   pscgan anatomy pack --acdc ACDC --patients train --out packs/acdc_train.npz
#   pscgan anatomy pack --acdc ACDC --patients validation --out packs/acdc_validation.npz  (or a subset)
# The phantom cohort is generated here (seed 0, the bundled model's cohort; its training part only).
# Three runs share the GPU at once: the shipped recipe (ACDC + phantom frames, motion channel), without
# the motion channel, and without the phantom frames. Each stops after MINUTES of wall time at the latest.
#
# Usage: bash benchmarks/anatomy_gpu.sh PACKS_DIR [MINUTES]
set -euo pipefail
PACKS=${1:?usage: anatomy_gpu.sh PACKS_DIR [MINUTES]}
MINUTES=${2:-5.5}
OUT=${OUT:-anatomy-gpu-out}
WORK=${WORK:-/tmp/anatomy-gpu}
mkdir -p "$OUT" "$WORK/runs"
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
LICENCE=$($PY -c "from pscgan.anatomy.acdc import LICENCE; print(LICENCE)")
{
  nvidia-smi -L || true
  $PY -c "import torch, monai; print('torch', torch.__version__, 'monai', monai.__version__, torch.cuda.get_device_name(0))"
  time $PY -m pscgan phantom generate --subjects 280 --seed 0 --out "$WORK/phantom"
  time $PY -m pscgan anatomy pack --dataset "$WORK/phantom" --split train --out "$WORK/phantom_train.npz"
} > "$OUT/log.txt" 2>&1
COMMON=(--validation "$PACKS/$(ls "$PACKS" | grep -m1 val)" --licence "$LICENCE" --device cuda
        --max-minutes "$MINUTES" --set steps=8000 --set batch_size=16 --set window=160
        --set validation_interval=500)
train() {  # NAME ARGS...
  local name=$1; shift
  $PY -m pscgan anatomy train --out "$WORK/runs/$name" "${COMMON[@]}" "$@" > "$WORK/$name.log" 2>&1 || echo "$name failed" >> "$OUT/log.txt"
}
train full --pack acdc="$PACKS/acdc_train.npz" --pack phantom="$WORK/phantom_train.npz" \
  --mix acdc=0.75 --mix phantom=0.25 &
train no_motion --pack acdc="$PACKS/acdc_train.npz" --pack phantom="$WORK/phantom_train.npz" \
  --mix acdc=0.75 --mix phantom=0.25 --set motion_channel=false &
train acdc_only --pack acdc="$PACKS/acdc_train.npz" &
wait
for name in full no_motion acdc_only; do
  cat "$WORK/$name.log" >> "$OUT/log.txt"
  cp "$WORK/runs/$name/metrics.jsonl" "$OUT/${name}_metrics.jsonl" 2>/dev/null || true
  # float16 copies of the best weights (half the size; cast back to float32 on load)
  $PY - "$WORK/runs/$name/best.safetensors" "$OUT/anatomy_${name}.safetensors" <<'PYEOF' >> "$OUT/log.txt" 2>&1 || true
import json, sys
from pscgan.anatomy.model import AnatomyModel, save_anatomy_weights
m = AnatomyModel.from_weights(sys.argv[1])
save_anatomy_weights(sys.argv[2], m.network, m.config, training=json.loads(m.metadata["training"]),
                     licence=m.metadata["licence"], half=True)
PYEOF
done
ls -la "$OUT"
