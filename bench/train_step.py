"""Time one training step of the paper's RG configuration against this machine's matmul limit.

    python bench/train_step.py [--rounds 3] [--steps 2] [--device cpu] [--json out.json]

Paths (the same model, the same data, the real ``engine.train_one_epoch`` on one batch):
  plain    every optimisation off: each sample recomputes the shared query work, fp32, Adam for-loop,
           features in host memory
  fp32     the default fp32 path: batch-shared work, the training optimizer (fused Adam), on a GPU
           the features kept there (train.features_on_device)
  fastest  fp32 path plus bf16 autocast
All three run the CPU fast paths of ``longaqa.models.fastpath`` (``model.fastpath``, the default);
``--set model.fastpath=false`` runs them on the plain model.
Rounds interleave the paths, so a busy machine slows them alike; ratios come from one run. FLOPs are
counted with torch's FLOP counter (attention kernels included); matmul rates are measured here too.
Every figure is given by the wall clock and by the CPU clock (this process's CPU seconds / threads),
which leaves out the time other jobs held shared cores (see ``roofline.clocks``).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics

import torch
from roofline import MatmulReplay, clocks, flop_counter, machine, roofline, summary

from longaqa.allocator import keep_freed_memory
from longaqa.config import TrainConfig, load_config
from longaqa.data.dataset import VideoSample, samples_on_device
from longaqa.engine import epoch_batches, train_one_epoch
from longaqa.losses import Criterion
from longaqa.models import build_model
from longaqa.training import build_optimizer

PATHS = {
    "plain": dict(share=False, precision="fp32", fused=False),
    "fp32": dict(share=True, precision="fp32", fused=True),
    "fastest": dict(share=True, precision="bf16", fused=True),
}


def make_path(name: str, batch: int, clips: int, device: torch.device, overrides: list[str]):
    spec = PATHS[name]
    cfg = load_config(None, [f"model.share_batch_work={spec['share']}", f"train.batch_size={batch}",
                             f"train.precision={spec['precision']}", *overrides])
    torch.manual_seed(0)
    model = build_model(cfg.model).to(device)
    if spec["fused"]:
        optimizer, _, _ = build_optimizer(model, cfg, 1)
    else:  # torch's default Adam on CPU: one parameter at a time
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.train.lr, weight_decay=cfg.train.weight_decay,
                                     foreach=False)
    criterion = Criterion(cfg.loss, cfg.model.d_model)
    gen = torch.Generator().manual_seed(0)
    samples = [  # RG videos are longer than the 68 queries: cropped at random, as in training
        VideoSample(f"v{i}", torch.randn(clips, cfg.model.input_dim, generator=gen),
                    float(torch.rand(1, generator=gen)))
        for i in range(batch)
    ]
    if device.type == "cuda" and spec["share"]:  # train.features_on_device, as training does; plain: host
        samples = samples_on_device(samples, device)

    def step() -> None:
        batches = epoch_batches(model, samples, batch, cfg.data.train_crop, gen)
        train_one_epoch(model, criterion, optimizer, batches, device, spec["precision"])

    return cfg, model, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2, help="steps timed per path and round")
    parser.add_argument("--batch", type=int, default=48)
    parser.add_argument("--clips", type=int, default=80, help="clips per video before the crop to 68")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--cpu-malloc", choices=("reuse", "system"), default=TrainConfig.cpu_malloc,
                        help="as train.cpu_malloc; process-wide, so every path runs with it")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"machine: {machine(device)}")
    if device.type == "cpu" and args.cpu_malloc == "reuse":
        applied = keep_freed_memory()
        print(f"train.cpu_malloc=reuse (freed memory kept for reuse): {'applied' if applied else 'not glibc'}")

    paths = {name: make_path(name, args.batch, args.clips, device, args.overrides) for name in PATHS}
    cfg = paths["plain"][0]
    params = sum(p.numel() for p in paths["plain"][1].parameters())
    print(f"model: B={args.batch} Q={cfg.model.num_queries} d_model={cfg.model.d_model} "
          f"layers={cfg.model.num_layers} params={params / 1e6:.1f}M dropout={cfg.model.dropout}")
    flops = {}
    for name, (_, _, step) in paths.items():
        step()  # warm-up
        with flop_counter() as counter:
            step()
        flops[name] = counter.get_total_flops()
        print(f"{name:8s} counted {flops[name] / 1e9:7.1f} GFLOP per step")

    replay = MatmulReplay(paths["fp32"][2], device)  # the fp32 step's own matmuls, alone
    print(f"fp32 step's matmuls, replayed alone: {len(replay)} calls, {replay.flop / 1e9:.1f} GFLOP")
    matmuls_alone: list[float] = []
    shapes = [(args.batch * cfg.model.num_queries, cfg.model.d_model, cfg.model.d_model), (2048, 2048, 2048)]
    if device.type == "cuda":  # a GPU's matrix units fill only at larger sizes
        shapes.append((8192, 8192, 8192))
    times: dict[str, list[float]] = {name: [] for name in PATHS}
    cpu_times: dict[str, list[float]] = {name: [] for name in PATHS}
    faults: dict[str, list[float]] = {name: [] for name in PATHS}  # minor page faults per step (Linux)
    rates: dict[str, list[float]] = {"fp32": [], "bf16": [], "fp32_cpu": [], "bf16_cpu": []}
    for r in range(args.rounds):
        for name, (_, _, step) in paths.items():
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            wall, cpu = clocks(step, device, args.steps)
            faults[name].append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / args.steps)
            times[name].append(wall)
            cpu_times[name].append(cpu)
        matmuls_alone.append(clocks(replay, device, args.steps)[0])
        for key, value in roofline(device, shapes).items():
            rates[key].append(value)
        print(f"round {r + 1}: " + ", ".join(f"{n} {t[-1]:.3f} s (cpu {cpu_times[n][-1]:.3f})"
                                             for n, t in times.items())
              + f"; matmul fp32 {rates['fp32'][-1] / 1e9:.0f}, bf16 {rates['bf16'][-1] / 1e9:.0f} GFLOP/s"
              + f" (cpu clock {rates['fp32_cpu'][-1] / 1e9:.0f}, {rates['bf16_cpu'][-1] / 1e9:.0f})"
              + f"; fp32 step's matmuls alone {matmuls_alone[-1]:.3f} s", flush=True)

    fp32_rate, bf16_rate = max(rates["fp32"]), max(rates["bf16"])
    best = {n: min(t) for n, t in times.items()}
    median = {n: statistics.median(t) for n, t in times.items()}
    cpu_best = {n: min(t) for n, t in cpu_times.items()}
    fp32_cpu_rate, bf16_cpu_rate = max(rates["fp32_cpu"]), max(rates["bf16_cpu"])
    cpu_clock = {
        "seconds_per_step_best": cpu_best,
        "matmul_gflops": {"fp32": fp32_cpu_rate / 1e9, "bf16": bf16_cpu_rate / 1e9},
        "fp32_roofline_fraction": {n: flops[n] / cpu_best[n] / fp32_cpu_rate for n in ("plain", "fp32")},
        "fp32_roofline_fraction_effective": flops["plain"] / cpu_best["fp32"] / fp32_cpu_rate,
        "fastest_bf16_roofline_fraction": flops["fastest"] / cpu_best["fastest"] / bf16_cpu_rate,
        "speedup_fastest_over_plain": cpu_best["plain"] / cpu_best["fastest"],
        "speedup_fp32_over_plain": cpu_best["plain"] / cpu_best["fp32"],
    }
    fractions = [flops["fp32"] / t / rate for t, rate in zip(times["fp32"], rates["fp32"])]
    per_round = {"median": statistics.median(fractions), "rounds": fractions}
    result = {
        "machine": machine(device),
        "batch": args.batch,
        "gflop_per_step": {n: f / 1e9 for n, f in flops.items()},
        "cpu_clock": cpu_clock,
        "seconds_per_step_best": best,
        "seconds_per_step_median": median,
        "page_faults_per_step_median": {n: statistics.median(f) for n, f in faults.items()},
        "matmul_gflops": {"fp32": fp32_rate / 1e9, "bf16": bf16_rate / 1e9},
        # FLOPs the path executes / time, as a fraction of the fp32 matmul rate
        "fp32_roofline_fraction": {n: flops[n] / best[n] / fp32_rate for n in ("plain", "fp32")},
        # the plain step's FLOPs / time: what the step is worth, however it is computed
        "fp32_roofline_fraction_effective": flops["plain"] / best["fp32"] / fp32_rate,
        "fastest_bf16_roofline_fraction": flops["fastest"] / best["fastest"] / bf16_rate,
        # each round's fp32 step against the matmul rate measured in that round; the median, as the best
        # of such pairs favours a slow spell that hit the rate and missed the step
        "fp32_roofline_fraction_per_round": per_round,
        # the fp32 step's matmuls replayed alone (same shapes and layouts): the floor of its time
        "fp32_matmuls_alone": {
            "seconds_best": min(matmuls_alone),
            "seconds_median": statistics.median(matmuls_alone),
            "gflop": replay.flop / 1e9,
            "roofline_fraction": replay.flop / min(matmuls_alone) / fp32_rate,
            "step_over_matmuls_alone": best["fp32"] / min(matmuls_alone),
        },
        "speedup_fastest_over_plain": {"best": best["plain"] / best["fastest"],
                                       "median": median["plain"] / median["fastest"]},
        "speedup_fp32_over_plain": {"best": best["plain"] / best["fp32"],
                                    "median": median["plain"] / median["fp32"]},
    }
    print()
    for n in PATHS:
        print(f"{n:8s} {summary(times[n])} per step; {statistics.median(faults[n]):.0f} page faults per step (median)")
    print(f"matmul limit (best over rounds and shapes {shapes}): fp32 {fp32_rate / 1e9:.0f} GFLOP/s, "
          f"bf16 {bf16_rate / 1e9:.0f} GFLOP/s")
    for n in ("plain", "fp32"):
        print(f"{n:8s} runs at {result['fp32_roofline_fraction'][n]:.0%} of the fp32 matmul rate "
              f"({flops[n] / 1e9:.0f} GFLOP in {best[n]:.3f} s)")
    print(f"fp32     per round, against that round's matmul rate: median {per_round['median']:.0%} "
          f"over {len(fractions)} rounds")
    print(f"fp32     effective (plain step's {flops['plain'] / 1e9:.0f} GFLOP / its time): "
          f"{result['fp32_roofline_fraction_effective']:.0%} of the fp32 matmul rate")
    alone = result["fp32_matmuls_alone"]
    print(f"fp32     its matmuls alone (replayed at the step's shapes and layouts): {summary(matmuls_alone)}, "
          f"{alone['roofline_fraction']:.0%} of the fp32 matmul rate; the step takes "
          f"{alone['step_over_matmuls_alone']:.2f}x its matmuls' time")
    print(f"fastest  runs at {result['fastest_bf16_roofline_fraction']:.0%} of the bf16 matmul rate")
    s = result["speedup_fastest_over_plain"]
    print(f"speed-up fastest / plain: {s['best']:.2f}x (best times), {s['median']:.2f}x (medians)")
    s = result["speedup_fp32_over_plain"]
    print(f"speed-up fp32 / plain:    {s['best']:.2f}x (best times), {s['median']:.2f}x (medians)")
    c = cpu_clock
    print(f"CPU clock: plain {cpu_best['plain']:.3f} s, fp32 {cpu_best['fp32']:.3f} s, fastest "
          f"{cpu_best['fastest']:.3f} s per step; matmul fp32 {fp32_cpu_rate / 1e9:.0f}, bf16 "
          f"{bf16_cpu_rate / 1e9:.0f} GFLOP/s; plain at {c['fp32_roofline_fraction']['plain']:.0%}, fp32 at "
          f"{c['fp32_roofline_fraction']['fp32']:.0%} "
          f"(effective {c['fp32_roofline_fraction_effective']:.0%}) "
          f"of fp32, fastest at {c['fastest_bf16_roofline_fraction']:.0%} of bf16; speed-up fastest / plain "
          f"{c['speedup_fastest_over_plain']:.2f}x, fp32 / plain {c['speedup_fp32_over_plain']:.2f}x")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
