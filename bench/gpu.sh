#!/usr/bin/env bash
# One short, prepared GPU check for a lent machine (no internet there): the training-step, inference
# and long-video benchmarks on CUDA, each with its JSON, into OUT (default $OUT or bench_gpu).
#
#   bash bench/gpu.sh [OUT]
#
# Needs a Python with torch (CUDA build) and longaqa importable: run it from the repository root
# with PYTHON pointing at that interpreter, e.g. PYTHON=.venv/bin/python bash bench/gpu.sh.
# Rounds are few so the whole script stays within a few minutes on one GPU.
set -euo pipefail
out="${1:-${OUT:-bench_gpu}}"
python="${PYTHON:-python}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
[[ "$python" == */* ]] && python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"
cd "$(dirname "$0")"
"$python" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 'gpu.sh: no CUDA device visible')"
"$python" -c "import torch; print(torch.cuda.get_device_name(0), torch.__version__)" | tee "$out/device.txt"
"$python" train_step.py --device cuda --rounds 3 --steps 3 --json "$out/train_step.json" 2>&1 | tee "$out/train_step.txt"
"$python" inference.py --device cuda --rounds 3 --json "$out/inference.json" 2>&1 | tee "$out/inference.txt"
"$python" long_video.py --device cuda --json "$out/long_video.json" 2>&1 | tee "$out/long_video.txt"
"$python" long_video.py --device cuda --precision bf16 --json "$out/long_video_bf16.json" 2>&1 \
    | tee "$out/long_video_bf16.txt"
