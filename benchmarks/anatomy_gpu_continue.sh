#!/usr/bin/env bash
# Continue training the shipped anatomy network on one GPU for a fixed time budget (steps calibrated once).
#
# Inputs as for anatomy_gpu.sh (PACKS_DIR with acdc_train.npz and a validation pack) plus INIT, the
# weights to start from. The phantom cohort (seed 0, training part) is generated here. The learning-rate
# schedule (5e-4, polynomial decay to 0) runs over the calibrated steps, so the run ends converged to its
# schedule. Results under $OUT: the float16 best weights, metrics and the log.
#
# Usage: bash benchmarks/anatomy_gpu_continue.sh PACKS_DIR INIT [MINUTES]
set -euo pipefail
PACKS=${1:?usage: anatomy_gpu_continue.sh PACKS_DIR INIT [MINUTES]}
INIT=${2:?usage: anatomy_gpu_continue.sh PACKS_DIR INIT [MINUTES]}
MINUTES=${3:-3.0}
OUT=${OUT:-anatomy-gpu-out}
WORK=${WORK:-/tmp/anatomy-gpu}
mkdir -p "$OUT" "$WORK"
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
LICENCE=$($PY -c "from pscgan.anatomy.acdc import LICENCE; print(LICENCE)")
{
  $PY -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
  $PY -m pscgan phantom generate --subjects 280 --seed 0 --out "$WORK/phantom"
  $PY -m pscgan anatomy pack --dataset "$WORK/phantom" --split train --out "$WORK/phantom_train.npz"
  timeout $(( ${MINUTES%.*} * 60 + 150 )) $PY -m pscgan anatomy train --out "$WORK/run" \
    --pack acdc="$PACKS/acdc_train.npz" --pack phantom="$WORK/phantom_train.npz" --mix acdc=0.75 --mix phantom=0.25 \
    --validation "$PACKS/$(ls "$PACKS" | grep -m1 val)" --licence "$LICENCE" --device cuda --init "$INIT" \
    --budget-minutes "$MINUTES" --set lr=0.0005 --set batch_size=16 --set window=160 \
    --set validation_interval=250 || echo "training stopped: $?"
} > "$OUT/log.txt" 2>&1
cp "$WORK/run/metrics.jsonl" "$OUT/continue_metrics.jsonl" || true
cp "$WORK/run/config.json" "$OUT/continue_config.json" || true
$PY - "$WORK/run/best.safetensors" "$OUT/anatomy_continue.safetensors" <<'PYEOF' >> "$OUT/log.txt" 2>&1
import json, sys
from pscgan.anatomy.model import AnatomyModel, save_anatomy_weights
m = AnatomyModel.from_weights(sys.argv[1])
save_anatomy_weights(sys.argv[2], m.network, m.config, training=json.loads(m.metadata["training"]),
                     licence=m.metadata["licence"], half=True)
PYEOF
sed -i "s|$WORK|\$WORK|g" "$OUT/log.txt" "$OUT/continue_config.json" 2>/dev/null || true
ls -la "$OUT"
