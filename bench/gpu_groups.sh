#!/usr/bin/env bash
# Issue 17's GPU figure, one short prepared check for a lent machine: run-epochs per second of lone
# runs and of groups of 1, 4, 16 and 32 runs at the paper's RG shapes, fp32 then bf16, with the
# projected wall time of Table 3 at 5 seeds x 300 epochs (bench/reproduce_throughput.py; fp32 also
# with the group's loss under torch.compile), and the
# grouped-vs-lone seed distribution on the demo routines (bench/group_vs_lone.py). About 4 minutes on
# an H100. Writes log.txt and one JSON per step into OUT (default $OUT or bench_gpu_groups).
#
#   PYTHON=.venv/bin/python bash bench/gpu_groups.sh [OUT]
set -uo pipefail
out="${1:-${OUT:-bench_gpu_groups}}"
python="${PYTHON:-python}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
[[ "$python" == */* ]] && python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"
cd "$(dirname "$0")"
"$python" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 'gpu_groups.sh: no CUDA device')" || exit 1
export PYTHONUNBUFFERED=1
log="$out/log.txt"
failed=()
step() {
    local name="$1"; shift
    echo "=== $name: $*" | tee -a "$log"
    "$@" 2>&1 | tee -a "$log"
    [[ ${PIPESTATUS[0]} -eq 0 ]] || failed+=("$name")
}
step fp32 "$python" reproduce_throughput.py --device cuda --sizes 1,4,16,32 --steps 5 --compile \
    --json "$out/throughput_fp32.json"
step bf16 "$python" reproduce_throughput.py --device cuda --precision bf16 --sizes 1,4,16,32 --steps 5 \
    --json "$out/throughput_bf16.json"
step group_vs_lone "$python" group_vs_lone.py --set train.device=cuda --json "$out/group_vs_lone.json"
echo "failed steps: ${failed[*]:-none}" | tee -a "$log"
[[ ${#failed[@]} -eq 0 ]]
