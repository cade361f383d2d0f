#!/usr/bin/env bash
# GPU checks of scget in one command, every figure in one log (issue #17, part 4):
#   1. training throughput of the tiny/small/base presets: fp32, bf16 autocast, bf16 +
#      torch.compile; windows/s and share of the measured matmul rate (MFU)
#      (benchmarks/train_throughput.py);
#   2. the demo pipeline on the device (its data and model feed 3-5);
#   3. `scget train` under torchrun on one process (NCCL on CUDA, gloo on CPU);
#   4. predict and its engine: gathering, forward-only and predict windows/s, tiled vs
#      centred TSS windows (benchmarks/predict_speed.py);
#   5. gene_by_motif windows/s;
#   6. the motif scan on the device when scan_motifs takes device= (skipped otherwise);
#   7. insert_elements windows/s against predict's, and the published in silico
#      lentiMPRA run projected at that rate (benchmarks/perturb.py).
#
# Usage (from the repository root; the package is used from src/, so no install is
# needed where torch, mudata and scget's other dependencies are importable):
#   bash benchmarks/gpu_check.sh            # CUDA when available, else the CPU half
#   bash benchmarks/gpu_check.sh --cpu      # the CPU half, small sizes (a smoke test)
# Options: --out DIR (work folder and log, default ./gpu_check_out).
# Each step has a time limit and a failed step does not stop the others; the log ends
# with one line per step (ok / failed / skipped). On an H200 the whole run should take
# about 8 minutes.
set -u
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$PWD/gpu_check_out"
FORCE_CPU=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) FORCE_CPU=1 ;;
    --out) OUT="$2"; shift ;;
    *) echo "unknown option $1 (use --cpu, --out DIR)" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUT"
LOG="$OUT/gpu_check.log"
: >"$LOG"
export PYTHONPATH="$REPO/src${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-python}"
say() { echo "$*" | tee -a "$LOG"; }
SUMMARY=()
step() {  # step NAME SECONDS COMMAND...
  local name="$1" limit="$2"; shift 2
  say ""; say "=== $name ($(date -u +%H:%M:%S), load: $(cut -d' ' -f1-3 /proc/loadavg)) ==="
  local start=$SECONDS
  timeout "$limit" "$@" 2>&1 | grep -v -e "FutureWarning" -e "_update_attr" -e "it/s\]" -e "s/epoch" \
    -e "seq/s\]" -e "epoch/s\]" -e "batch/s\]" -e "group/s\]" | tee -a "$LOG"
  local rc=${PIPESTATUS[0]} result=ok
  [ "$rc" -eq 0 ] || result="failed (exit $rc)"
  SUMMARY+=("$name: $result in $((SECONDS - start)) s")
}

if ! "$PY" -c "import torch, mudata, scget" 2>/dev/null; then
  say "torch, mudata or scget's dependencies are missing: pip install -e '$REPO' first"
  exit 1
fi
if [ "$FORCE_CPU" -eq 0 ] && "$PY" -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
  DEVICE=cuda
else
  DEVICE=cpu
fi
say "scget gpu_check on $DEVICE, $(date -u), $(nproc) CPUs, repo $REPO"
"$PY" -c "import torch, scget; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'scget', scget.__file__)" | tee -a "$LOG"
[ "$DEVICE" = cuda ] && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee -a "$LOG"

if [ "$DEVICE" = cuda ]; then
  step "train throughput" 240 "$PY" "$REPO/benchmarks/train_throughput.py" --device cuda \
    --presets tiny small base --batch-size 32 --steps 20 --warmup 3 --max-seconds 8
  step "demo" 240 "$PY" -m scget.cli demo --out "$OUT/demo" --overwrite --device cuda
  TRAIN_ARGS=(--device cuda --preset small --max-epochs 3 --batch-size 32)
else
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
  step "train throughput" 120 "$PY" "$REPO/benchmarks/train_throughput.py" --device cpu \
    --presets tiny --batch-size 4 --steps 3 --warmup 1 --max-seconds 10 --threads 1 --matmul-size 512
  step "demo" 240 "$PY" -m scget.cli demo --size tiny --out "$OUT/demo" --overwrite --device cpu
  TRAIN_ARGS=(--device cpu --preset tiny --max-epochs 1 --batch-size 8 --window-size 32)
fi

LAST_CHROM=$("$PY" - "$OUT/demo/model" <<'PYEOF' 2>/dev/null
import sys, scget
print(" ".join(scget.tl.GETModel.load(sys.argv[1]).split["test_chromosomes"]))
PYEOF
)
step "scget train under torchrun (1 process)" 180 "$PY" -m torch.distributed.run \
  --standalone --nproc_per_node 1 -m scget.cli train "$OUT/demo/pseudobulk.h5mu" \
  --out "$OUT/torchrun_ckpt" --leave-out-chromosomes ${LAST_CHROM:-chr3} "${TRAIN_ARGS[@]}"

step "predict speed" 240 "$PY" "$REPO/benchmarks/predict_speed.py" "$OUT/demo" --device "$DEVICE"

step "gene_by_motif speed" 180 "$PY" - "$OUT/demo" "$DEVICE" <<'PYEOF'
import sys, time
import mudata as md
import numpy as np
import scget
from scget.tl._core._engine import promoter_windows
from scget.tl._core._windows import build_inputs

pb = md.read_h5mu(f"{sys.argv[1]}/pseudobulk.h5mu")
model = scget.tl.GETModel.load(f"{sys.argv[1]}/model")
inputs = build_inputs(pb, binary=model.binary, with_targets=False)
table = promoter_windows(inputs, pb["rna"].var, pb["atac"].var_names,
                         accessibility=np.asarray(pb["atac"].X), window_size=model.window_size)
start = time.perf_counter()
scget.tl.gene_by_motif(pb, model, device=sys.argv[2])
seconds = time.perf_counter() - start
print(f"gene_by_motif: {len(table)} promoter windows in {seconds:.1f} s, "
      f"{len(table) / seconds:,.1f} windows/s")
PYEOF

step "motif scan on the device" 180 "$PY" - "$OUT/demo" "$DEVICE" <<'PYEOF'
import inspect, sys, time
import mudata as md
import scget

pb = md.read_h5mu(f"{sys.argv[1]}/pseudobulk.h5mu")
genome = scget.get.params(pb, "motifs").get("genome")  # the path scan_motifs recorded
if "device" not in inspect.signature(scget.pp.scan_motifs).parameters:
    print("skipped: scan_motifs takes no device= in this version")
    sys.exit(0)
if genome is None:
    print("skipped: the demo's motif scan recorded no genome path")
    sys.exit(0)
times = {}
for device in dict.fromkeys(["cpu", sys.argv[2]]):
    start = time.perf_counter()
    scget.pp.scan_motifs(pb, genome=genome, device=device, key_added=f"scan_{device}")
    times[device] = time.perf_counter() - start
    print(f"scan_motifs device={device}: {pb['atac'].n_vars} peaks in {times[device]:.1f} s")
if len(times) == 2:
    a, b = pb["atac"].varm["scan_cpu"], pb["atac"].varm[f"scan_{sys.argv[2]}"]
    print(f"max |cpu - {sys.argv[2]}| score difference: {abs(a.to_numpy() - b.to_numpy()).max():.3g}")
PYEOF

step "insert_elements speed" 180 "$PY" "$REPO/benchmarks/perturb.py" --demo "$OUT/demo" \
  --device "$DEVICE" --elements 5

say ""; say "=== summary ($DEVICE) ==="
for line in "${SUMMARY[@]}"; do say "$line"; done
