#!/bin/bash
# Trains demo models side by side on one GPU within a wall-clock budget (a short device lease).
# Snapshots the exported model folders and logs into $OUT/models.tar every 20 s, so that a lease
# cut short still returns the latest export.
#   OUT=/tmp/out bash training/gpu-train.sh MINUTES [FOLDER:TRAIN_ARGS ...]
# With no FOLDER:TRAIN_ARGS it trains demo-attn-2l and demo-attn-1l from scratch.
set -u
OUT=${OUT:-/tmp/gpu-out}
MINUTES=${1:-8}; shift
specs=("$@")
[ ${#specs[@]} -eq 0 ] && specs=("demo-attn-2l:--layers 2" "demo-attn-1l:--layers 1")
W=/tmp/gpu-train
PY=${PYTHON:-python3}
mkdir -p "$OUT" $W/models
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
$PY -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
common="--fresh --batch 128 --lr 4e-3 --warmup 500 --total-tokens 5e9 --repeat-rate 0.5 --time-budget-minutes $MINUTES --ckpt-minutes 1"
for spec in "${specs[@]}"; do
  f=${spec%%:*}
  PYTHONUNBUFFERED=1 $PY training/train.py $common ${spec#*:} --out $W/models/$f --run $W/runs/$f > $W/models/$f.out 2>&1 &
done
snapshot() {
  for spec in "${specs[@]}"; do f=${spec%%:*}; cp $W/runs/$f/train.log $W/models/$f.train.log 2>/dev/null; done
  tar -C $W -cf "$OUT/models.tar.tmp" models && mv "$OUT/models.tar.tmp" "$OUT/models.tar"
}
while [ -n "$(jobs -r)" ]; do sleep 20; snapshot; tail -qn1 $W/models/*.out | cut -c1-160; done
wait
snapshot
tail -n3 $W/models/*.out
ls -l "$OUT"
