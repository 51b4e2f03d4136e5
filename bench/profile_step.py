"""Where a training step's time goes: matrix multiplies against everything else, by torch.profiler.

    python bench/profile_step.py [--path fp32] [--rounds 5] [--threads 0] [--top 20] [--device cuda]

Profiles ``--rounds`` steps of one path of ``bench/train_step.py`` (same model, data and settings) and
keeps, for every operator, its smallest self time over the rounds (a shared machine slows some
rounds; the minimum is the operator's own cost). Prints the matmul operators' total (mm, addmm,
bmm) with the rate they reach on the step's counted matmul FLOPs, the total of all other operators,
and the largest operators. Profiling adds a little time to every operator. On CUDA the times are the
operators' GPU (kernel) times, and the GPU's busy time per step (the sum of its kernels) is set
against the step's wall time, with the number of kernel launches: the gap is time the GPU waited.
"""

from __future__ import annotations

import argparse
import collections
import time

import torch
from roofline import flop_counter, machine, synced
from torch.profiler import ProfilerActivity, profile
from train_step import PATHS, make_path

from longaqa.allocator import keep_freed_memory
from longaqa.config import TrainConfig

MATMULS = ("aten::mm", "aten::addmm", "aten::bmm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", choices=tuple(PATHS), default="fp32")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=48)
    parser.add_argument("--clips", type=int, default=80)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--top", type=int, default=20, help="operators listed")
    parser.add_argument("--cpu-malloc", choices=("reuse", "system"), default=TrainConfig.cpu_malloc)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    activities = [ProfilerActivity.CPU, ProfilerActivity.CUDA] if cuda else [ProfilerActivity.CPU]
    if args.cpu_malloc == "reuse" and not cuda:
        keep_freed_memory()
    print(f"machine: {machine(device)}; path {args.path}; cpu_malloc {args.cpu_malloc}")
    _, _, path_step = make_path(args.path, args.batch, args.clips, device, [])
    step = synced(path_step, device)
    step()
    step()
    with flop_counter() as counter:
        step()
    per_op = counter.get_flop_counts().get("Global", {})
    matmul_flop = sum(n for op, n in per_op.items() if str(op) in ("aten.mm", "aten.addmm", "aten.bmm"))
    total_flop = counter.get_total_flops()

    best: dict[str, float] = collections.defaultdict(lambda: float("inf"))
    walls, busy, launches = [], [], []
    for _ in range(args.rounds):
        with profile(activities=activities) as prof:
            start = time.perf_counter()
            step()
            walls.append(time.perf_counter() - start)
        events = prof.key_averages()
        for event in events:
            if cuda:  # GPU time; ops that launch nothing have none
                gpu = getattr(event, "self_device_time_total", None)
                gpu = event.self_cuda_time_total if gpu is None else gpu
                if gpu > 0 or event.key in best:
                    best[event.key] = min(best[event.key], gpu / 1e6)
            else:
                best[event.key] = min(best[event.key], event.self_cpu_time_total / 1e6)
        if cuda:
            kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
            busy.append(sum(e.time_range.elapsed_us() for e in kernels) / 1e6)
            launches.append(sum(e.count for e in events if e.key in ("cudaLaunchKernel", "cuLaunchKernel",
                                                                    "cudaLaunchKernelExC", "cuLaunchKernelEx")))
    matmul = sum(best[k] for k in MATMULS if k in best)
    other = sum(v for k, v in best.items() if k not in MATMULS)
    print(f"profiled steps: {', '.join(f'{w:.3f}' for w in walls)} s (best {min(walls):.3f} s)")
    if cuda:
        print(f"GPU busy (sum of kernel times): {', '.join(f'{b:.4f}' for b in busy)} s per step; "
              f"kernel launches per step {', '.join(str(n) for n in launches)}")
    print(f"counted: {total_flop / 1e9:.1f} GFLOP per step, {matmul_flop / 1e9:.1f} of them in mm/addmm/bmm")
    print(f"matmul operators: {matmul:.3f} s ({matmul_flop / matmul / 1e9:.0f} GFLOP/s on their FLOPs)")
    print(f"all other operators: {other:.3f} s; sum of both {matmul + other:.3f} s")
    print(f"largest operators (smallest self time over {args.rounds} rounds):")
    for key, value in sorted(best.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {value * 1e3:9.1f} ms  {key}")


if __name__ == "__main__":
    main()
