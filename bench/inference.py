"""Inference speed of the paper's RG model: batch-1 latency per RG-length video, throughput at batch 48.

    python bench/inference.py [--clips 77] [--repeat 20] [--device cpu] [--json out.json]

RG videos have 68-77 clips (seconds * 25 / 32); the model scores the whole video (``eval_view: full``).
Paths: ``plain`` (no batch-shared work, fp32), ``fp32`` (the default), ``bf16`` (autocast). Rounds
interleave the paths, so a busy machine slows them alike.
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch
from roofline import machine, seconds

from longaqa.config import load_config
from longaqa.engine import autocast
from longaqa.models import build_model

PATHS = {"plain": (False, "fp32"), "fp32": (True, "fp32"), "bf16": (True, "bf16")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=77, help="clips per video (RG: 68-77)")
    parser.add_argument("--batch", type=int, default=48, help="batch size of the throughput test")
    parser.add_argument("--repeat", type=int, default=20, help="batch-1 calls timed per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"machine: {machine(device)}")

    models = {}
    for name, (share, _) in PATHS.items():
        torch.manual_seed(0)
        cfg = load_config(None, [f"model.share_batch_work={share}"])
        models[name] = build_model(cfg.model).to(device).eval()
    one = torch.randn(1, args.clips, 1024, device=device)  # (1, T, D)
    one_len = torch.tensor([args.clips], device=device)
    many = torch.randn(args.batch, args.clips, 1024, device=device)  # (B, T, D)
    many_len = torch.full((args.batch,), args.clips, device=device)

    def score(name: str, x: torch.Tensor, lengths: torch.Tensor) -> None:
        with torch.inference_mode(), autocast(device, PATHS[name][1]):
            models[name](x, lengths)

    latency: dict[str, list[float]] = {n: [] for n in PATHS}
    batch_time: dict[str, list[float]] = {n: [] for n in PATHS}
    for name in PATHS:  # warm-up
        score(name, one, one_len)
        score(name, many, many_len)
    for r in range(args.rounds):
        for name in PATHS:
            latency[name].append(seconds(lambda n=name: score(n, one, one_len), device, args.repeat))
            batch_time[name].append(seconds(lambda n=name: score(n, many, many_len), device, 2))
        figures = [f"{n} {latency[n][-1] * 1e3:.1f} ms / {args.batch / batch_time[n][-1]:.0f} videos/s"
                   for n in PATHS]
        print(f"round {r + 1}: " + ", ".join(figures), flush=True)

    result = {"machine": machine(device), "clips": args.clips, "batch": args.batch}
    print()
    for name in PATHS:
        best, med = min(latency[name]), statistics.median(latency[name])
        rate = args.batch / min(batch_time[name])
        result[name] = {"latency_ms_best": best * 1e3, "latency_ms_median": med * 1e3,
                        "videos_per_s_at_batch": rate}
        print(f"{name:6s} batch 1, {args.clips} clips: best {best * 1e3:.1f} ms, median {med * 1e3:.1f} ms; "
              f"batch {args.batch}: {rate:.0f} videos/s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
