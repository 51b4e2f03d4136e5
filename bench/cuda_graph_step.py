"""A paper-size training step replayed from a CUDA graph, against the same step run eagerly (GPU).

    python bench/cuda_graph_step.py [--steps 20] [--rounds 3] [--precision fp32 bf16] [--json out.json]

On the lent H100 a training step of the paper's RG configuration (B=48, 68 queries, d_model 1024)
took about 19 ms in fp32 and in bf16 alike, while its kernels took 11.5-13 ms and 3.8-5.3 ms: the
host's kernel launches bound it (bench/RESULTS.md). A CUDA graph launches the whole step at once.
This script captures forward, both losses, backward and the fused Adam update (``capturable=True``)
on one static batch (the clips already cropped to 68, so the model reads no lengths on the host),
times graph replays against eager steps of an identical copy of the model, and checks that the two
copies still agree after ``--check-steps`` steps with dropout off (fp tolerance: the graph may pick
other kernels' orders of summation). With dropout on (the paper's 0.7) only the times are compared.

Without a CUDA device it runs the eager steps on the CPU and says that the capture needs a GPU
(a dry run of everything but the graph).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from roofline import machine, sync

from longaqa.config import load_config
from longaqa.losses import Criterion
from longaqa.models import build_model
from longaqa.precision import autocast


def make_step(precision: str, device: torch.device, overrides: list[str], seed: int = 0):
    """(model, step function, static loss tensor) for one static batch of the paper's RG configuration."""
    cfg = load_config(None, ["train.batch_size=48", *overrides])
    torch.manual_seed(seed)
    model = build_model(cfg.model).to(device).train()
    criterion = Criterion(cfg.loss, cfg.model.d_model)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.train.lr, weight_decay=cfg.train.weight_decay,
                                 fused=True, capturable=device.type == "cuda")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(48, cfg.model.num_queries, cfg.model.input_dim, generator=gen).to(device)
    target = torch.rand(48, generator=gen).to(device)
    loss = torch.zeros((), device=device)

    def step() -> None:
        # autocast's cast cache must be off in a graph capture
        cast = autocast(device, precision, cache_enabled=False)
        optimizer.zero_grad(set_to_none=True)
        with cast:
            out = model(x)  # no lengths: every clip valid, nothing read on the host
        terms = criterion(out, target)
        terms["loss"].backward()
        optimizer.step()
        loss.copy_(terms["loss"].detach())

    return model, step, loss


def capture(step, device: torch.device) -> torch.cuda.CUDAGraph:
    """Warm ``step`` up on a side stream (as torch's whole-network capture recipe does), then capture it."""
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph


def timed(fn, device: torch.device, steps: int) -> float:
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    sync(device)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps per path and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--check-steps", type=int, default=3, help="steps of the dropout-free agreement check")
    parser.add_argument("--precision", nargs="+", default=["fp32", "bf16"], choices=("fp32", "bf16"))
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    print(f"machine: {machine(device)}")
    if not cuda:
        print("no CUDA device: eager steps on the CPU only (a dry run); the graph capture needs a GPU")
    result: dict[str, dict] = {}
    for precision in args.precision:
        # agreement, dropout off: the same initialisation and batch, eager against graph
        _, eager_step, eager_loss = make_step(precision, device, ["model.dropout=0"])
        _, graph_step, graph_loss = make_step(precision, device, ["model.dropout=0"])
        replay = capture(graph_step, device).replay if cuda else graph_step
        if cuda:  # the capture's warm-up ran 3 steps and the capture none: bring eager level
            for _ in range(3):
                eager_step()
        losses = []
        for _ in range(args.check_steps):
            eager_step()
            replay()
            sync(device)
            losses.append((float(eager_loss), float(graph_loss)))
        agree = all(abs(a - b) <= 1e-3 * max(1.0, abs(a)) for a, b in losses)
        print(f"{precision}: losses eager / graph over {args.check_steps} steps (dropout off): "
              + ", ".join(f"{a:.6f} / {b:.6f}" for a, b in losses) + (" agree" if agree else " DIFFER"))

        # times, dropout as configured (0.7)
        _, eager_step, _ = make_step(precision, device, [])
        _, graph_step, _ = make_step(precision, device, [])
        replay = capture(graph_step, device).replay if cuda else graph_step
        eager_step()
        times: dict[str, list[float]] = {"eager": [], "graph": []}
        for _ in range(args.rounds):
            times["eager"].append(timed(eager_step, device, args.steps))
            times["graph"].append(timed(replay, device, args.steps))
        best = {k: min(v) for k, v in times.items()}
        print(f"{precision}: eager {best['eager'] * 1e3:.2f} ms, graph {best['graph'] * 1e3:.2f} ms per step "
              f"(best of {args.rounds} rounds of {args.steps}; medians {statistics.median(times['eager']) * 1e3:.2f}"
              f" / {statistics.median(times['graph']) * 1e3:.2f} ms); graph speed-up "
              f"{best['eager'] / best['graph']:.2f}x" + ("" if cuda else " (CPU dry run: no graph)"))
        result[precision] = {"seconds_per_step_best": best, "seconds_per_step_median":
                             {k: statistics.median(v) for k, v in times.items()},
                             "losses_dropout_off": losses, "agree": agree, "graph": cuda}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"machine": machine(device), **result}, fh, indent=2)


if __name__ == "__main__":
    main()
