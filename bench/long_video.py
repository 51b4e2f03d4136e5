"""Time and peak memory of scoring one long video's features: 68, 512, 2,812 (one hour), 8,192 clips.

    python bench/long_video.py [--clips 68 512 2812 8192] [--device cpu] [--json out.json]

One hour at 25 fps in 32-frame clips is 3600 * 25 / 32 = 2,812 clips. The model's queries stay 68; the
cross-attention reads every clip, so time and memory should grow linearly with the clip count. The
counted FLOPs (torch's FLOP counter) show the growth free of timing noise. Each
length is scored in a fresh process (CPU: its peak resident memory, ``ru_maxrss``, is the figure; the
model and torch's own footprint are reported too, measured after a 68-clip warm-up). On CUDA the
figure is ``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

import numpy as np
import torch
from roofline import flop_counter, machine, seconds

from longaqa.config import load_config
from longaqa.engine import autocast
from longaqa.models import build_model


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def measure(clips: int, device: torch.device, precision: str, repeat: int) -> dict[str, float]:
    """Score a ``clips``-long video ``repeat`` times in this process; best time and peak memory."""
    torch.manual_seed(0)
    model = build_model(load_config(None, []).model).to(device).eval()

    def score(x: torch.Tensor) -> float:
        with torch.inference_mode(), autocast(device, precision):
            return float(model(x, torch.tensor([x.shape[1]], device=device)).pred)

    score(torch.randn(1, 68, 1024, device=device))  # warm-up: weights, kernels, allocator
    base = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else rss_mib()
    x = torch.randn(1, clips, 1024, device=device)  # (1, T, D), the video's features
    best = min(seconds(lambda: score(x), device) for _ in range(repeat))
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        base = base / 2**20
    else:
        peak = rss_mib()
    with autocast(device, precision), flop_counter() as counter:  # after the peak: this keeps a graph
        model(x, torch.tensor([clips], device=device))
    return {"clips": clips, "seconds": best, "peak_mib": peak, "base_mib": base,
            "gflop": counter.get_total_flops() / 1e9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, nargs="+", default=[68, 512, 2812, 8192])
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: measure one length
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.one is not None:
        print(json.dumps(measure(args.one, device, args.precision, args.repeat)))
        return

    print(f"machine: {machine(device)}, precision {args.precision}")
    rows = []
    for clips in args.clips:
        cmd = [sys.executable, __file__, "--one", str(clips), "--device", args.device,
               "--precision", args.precision, "--repeat", str(args.repeat), "--threads", str(args.threads)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        rows.append(row)
        print(f"{clips:6d} clips: {row['gflop']:6.1f} GFLOP, {row['seconds'] * 1e3:8.1f} ms, "
              f"peak {row['peak_mib']:7.0f} MiB "
              f"(model and torch after warm-up: {row['base_mib']:.0f} MiB)", flush=True)
    t = np.array([r["seconds"] for r in rows])
    n = np.array([r["clips"] for r in rows], dtype=float)
    extra = np.array([r["peak_mib"] - r["base_mib"] for r in rows])
    gflop = np.array([r["gflop"] for r in rows])
    # growth exponent between the two longest: 1 is linear, 2 quadratic
    if len(rows) >= 2:
        time_exp = float(np.log(t[-1] / t[-2]) / np.log(n[-1] / n[-2]))
        flop_exp = float(np.log(gflop[-1] / gflop[-2]) / np.log(n[-1] / n[-2]))
        print(f"FLOP growth exponent {int(n[-2])} -> {int(n[-1])} clips: {flop_exp:.2f} (1 = linear)")
        print(f"time growth exponent {int(n[-2])} -> {int(n[-1])} clips: {time_exp:.2f} (1 = linear)")
        if extra[-2] > 0 and extra[-1] > 0:
            mem_exp = float(np.log(extra[-1] / extra[-2]) / np.log(n[-1] / n[-2]))
            print(f"memory-above-warm-up growth exponent: {mem_exp:.2f} (1 = linear)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"machine": machine(device), "precision": args.precision, "rows": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
