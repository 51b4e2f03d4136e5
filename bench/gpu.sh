#!/usr/bin/env bash
# One short, prepared GPU check for a lent machine (no internet there): the training-step, inference
# and long-video benchmarks on CUDA, then the command line end to end on CUDA (bench/gpu_e2e.py: demo,
# resume, torchrun with NCCL) and the bf16 accuracy check on 10 seeds (bench/precision.py). Writes log.txt
# (everything printed) and one JSON per benchmark into OUT (default $OUT or bench_gpu): eight files,
# with the training step replayed from a CUDA graph (bench/cuda_graph_step.py). A failing step is
# reported and the others still run. About 5 minutes on an H100.
#
#   bash bench/gpu.sh [OUT]
#
# Needs a Python with torch (CUDA build) and longaqa importable: run it from the repository root
# with PYTHON pointing at that interpreter, e.g. PYTHON=.venv/bin/python bash bench/gpu.sh, or with
# PYTHONPATH=src where longaqa is not installed. Rounds are few so that it stays within a few minutes.
set -uo pipefail
out="${1:-${OUT:-bench_gpu}}"
python="${PYTHON:-python}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
[[ "$python" == */* ]] && python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"
[[ -n "${PYTHONPATH:-}" ]] && export PYTHONPATH="$(cd "${PYTHONPATH%%:*}" && pwd)"
cd "$(dirname "$0")"
"$python" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 'gpu.sh: no CUDA device visible')" \
    || exit 1
export PYTHONUNBUFFERED=1
log="$out/log.txt"
failed=()
step() {  # step NAME COMMAND...: run, log, remember a failure
    local name="$1"; shift
    echo "=== $name: $*" | tee -a "$log"
    local start=$SECONDS
    "$@" 2>&1 | tee -a "$log"
    local rc=${PIPESTATUS[0]}
    echo "=== $name: exit $rc after $((SECONDS - start)) s" | tee -a "$log"
    [[ $rc -eq 0 ]] || failed+=("$name")
}
step device "$python" -c "import torch; p = torch.cuda.get_device_properties(0); \
print(torch.cuda.get_device_name(0), 'torch', torch.__version__, 'cuda', torch.version.cuda, \
p.multi_processor_count, 'SMs', p.total_memory // 2**20, 'MiB')"
step train_step "$python" train_step.py --device cuda --rounds 3 --steps 3 --json "$out/train_step.json"
step cuda_graph "$python" cuda_graph_step.py --steps 20 --rounds 3 --json "$out/cuda_graph.json"
step inference "$python" inference.py --device cuda --rounds 3 --json "$out/inference.json"
step long_video "$python" long_video.py --device cuda --json "$out/long_video.json"
step long_video_bf16 "$python" long_video.py --device cuda --precision bf16 --json "$out/long_video_bf16.json"
step e2e "$python" gpu_e2e.py --work "$out/../gpu_e2e_work" --json "$out/e2e.json"
step precision "$python" precision.py --seeds 0 1 2 3 4 5 6 7 8 9 --epochs 15 --out "$out/../gpu_e2e_work/precision" \
    --set train.device=cuda --json "$out/precision.json"
rm -rf "$out/../gpu_e2e_work"
echo "failed steps: ${failed[*]:-none}" | tee -a "$log"
[[ ${#failed[@]} -eq 0 ]]
