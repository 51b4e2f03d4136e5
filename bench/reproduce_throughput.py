"""Run-epochs per second of lone runs and of groups (longaqa.group), and Table 3 at 5 seeds projected.

    python bench/reproduce_throughput.py [--sizes 1,4,16,64] [--steps 3] [--device cpu] [--precision fp32]
                                         [--shape paper|demo] [--json out.json]

The paper's RG shapes (``configs/rg/ball.yaml``: 200 training videos, batch 48, 68 queries, d_model
1024; ``--shape demo``: configs/demo.yaml), random features. For each size R, ``--steps`` timed
training steps (after one warm-up) of a group of R runs; "lone" is the lone run's step
(``engine.train_one_epoch`` on one batch, fast paths on). A run-epoch is ceil(200/48) = 5 steps; its
evaluation (forward over the 50 test videos plus the skipping index, per run, as every epoch does
with ``train.eval_every=1``) is timed apart and added for the "with evaluation" figure: for lone runs
``engine.evaluate`` plus ``engine.model_skipping_index`` per run, for a group its one vmapped pass
(``StackedRuns.evaluate``) over all runs.

Prints, per size: seconds per step, run-epochs per second (training only, and with evaluation), the
fraction of this device's matmul rate in the chosen precision (FLOPs counted by torch's FLOP counter
on the lone step, times R), and the projected wall time of Table 3 at 5 seeds x 300 epochs (16 cells x
5 seeds x 300 = 24,000 run-epochs; Table 3 packs into 4 groups of 20 runs, the four classes x five
seeds of each row, so sizes above 20 are a bound, not a plan). On a CPU the larger sizes take minutes
per step at paper shapes: pass ``--sizes 1,2,4`` there.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from roofline import flop_counter, machine, matmul_rate, seconds

from longaqa.config import load_config
from longaqa.data.dataset import VideoSample, iterate_batches
from longaqa.engine import epoch_batches, evaluate, model_skipping_index, train_one_epoch
from longaqa.group.stacked import StackedRuns, stack_batches
from longaqa.losses import Criterion
from longaqa.models import model_from_config
from longaqa.training import build_optimizer

ROOT = Path(__file__).resolve().parents[1]
TABLE3_RUN_EPOCHS = 16 * 5 * 300
TRAIN_VIDEOS, TEST_VIDEOS = 200, 50


def videos(cfg, n: int, gen: torch.Generator, clips: int) -> list[VideoSample]:
    return [VideoSample(f"v{i}", torch.randn(clips, cfg.model.input_dim, generator=gen),
                        float(torch.rand(1, generator=gen))) for i in range(n)]


def timed(fn, device: torch.device, steps: int) -> float:
    """Seconds per call of ``fn`` over ``steps`` calls after one warm-up call."""
    fn()
    return seconds(fn, device, steps)


def group_step(stacked: StackedRuns, inputs: tuple) -> None:
    stacked.train_step(*inputs)
    stacked.step()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1,4,16,64")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    p.add_argument("--shape", default="paper", choices=("paper", "demo"))
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--compile", action="store_true",
                   help="also time each group with its vmapped loss under torch.compile (after a compiling step)")
    p.add_argument("--json")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    config = ROOT / "configs" / ("rg/ball.yaml" if args.shape == "paper" else "demo.yaml")
    cfg = load_config(config, [f"train.precision={args.precision}", f"train.device={device.type}"])
    B, Q = cfg.train.batch_size, cfg.model.num_queries
    steps_per_epoch = math.ceil(TRAIN_VIDEOS / B)
    gen = torch.Generator().manual_seed(0)
    clips = Q + 8 if args.shape == "paper" else Q  # RG videos are longer than the queries: cropped
    train = videos(cfg, B, gen, clips)
    test = videos(cfg, TEST_VIDEOS, gen, clips)
    if device.type == "cuda":
        train = [VideoSample(s.name, s.features.to(device), s.score) for s in train]
        test = [VideoSample(s.name, s.features.to(device), s.score) for s in test]

    # the lone run's step and its FLOPs
    model = model_from_config(cfg).to(device)
    optimizer, _, _ = build_optimizer(model, cfg, 1)
    criterion = Criterion(cfg.loss, cfg.model.d_model)
    lone_step = lambda: train_one_epoch(  # noqa: E731
        model, criterion, optimizer, epoch_batches(model, train, B, "random", torch.Generator().manual_seed(0)),
        device, args.precision)
    lone = timed(lone_step, device, args.steps)
    with flop_counter() as counter:
        lone_step()
    flops = counter.get_total_flops()
    cropped = cfg.data.eval_view != "full"
    eval_one = lambda: (evaluate(model, test, B, cfg.data.eval_view, device, args.precision),  # noqa: E731
                        model_skipping_index(model, test, B, device, cropped))
    eval_seconds = timed(eval_one, device, max(1, args.steps // 2))
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    shape = (4096, 4096, 4096) if device.type == "cuda" else (1024, 1024, 1024)
    rate = matmul_rate(dtype, device, shape)

    def line(name: str, runs: int, step: float, epoch_eval: float) -> dict:
        """``epoch_eval``: seconds to evaluate all ``runs`` once (one epoch's evaluation)."""
        train_rate = runs / (step * steps_per_epoch)
        with_eval = runs / (step * steps_per_epoch + epoch_eval)
        row = {
            "name": name, "runs": runs, "step_seconds": step, "run_epochs_per_s": train_rate,
            "run_epochs_per_s_with_eval": with_eval, "matmul_fraction": runs * flops / step / rate,
            "table3_minutes": TABLE3_RUN_EPOCHS / train_rate / 60,
            "table3_minutes_with_eval": TABLE3_RUN_EPOCHS / with_eval / 60,
        }
        print(f"{name:<10} {runs:>3} runs  {step * 1e3:9.1f} ms/step  {train_rate:8.3f} run-epochs/s "
              f"({with_eval:8.3f} with eval)  {row['matmul_fraction']:6.1%} of {args.precision} matmul  "
              f"Table 3 x5 seeds: {row['table3_minutes']:8.1f} min ({row['table3_minutes_with_eval']:.1f} with eval)",
              flush=True)
        return row

    print(f"{machine(device)}; {args.shape} shapes (B={B}, Q={Q}, d_model={cfg.model.d_model}), {args.precision}; "
          f"{flops / 1e9:.0f} GFLOP per run-step, matmul {rate / 1e12:.2f} TFLOP/s, "
          f"evaluation {eval_seconds * 1e3:.0f} ms per run-epoch")
    rows = [line("lone", 1, lone, eval_seconds)]
    for runs in (int(s) for s in args.sizes.split(",")):
        models = [model_from_config(cfg).to(device) for _ in range(runs)]
        stacked = StackedRuns(cfg, models, device, args.precision, lambda params: build_optimizer(params, cfg, 1))
        batches = [next(iterate_batches(train, B, True, torch.Generator().manual_seed(r), Q, "random"))
                   for r in range(runs)]
        inputs = stack_batches(batches, device)
        step = timed(lambda s=stacked, x=inputs: group_step(s, x), device, args.steps)
        tests = [stack_batches([b] * runs, device) for b in iterate_batches(test, B, False, None, None, "center")]
        epoch_eval = timed(lambda s=stacked, x=tests: [s.evaluate(*t[:2]) for t in x], device, max(1, args.steps // 2))
        rows.append(line("group", runs, step, epoch_eval))
        if args.compile:
            stacked.losses = torch.compile(stacked.losses)
            start = time.perf_counter()
            group_step(stacked, inputs)  # compiles
            print(f"           torch.compile took {time.perf_counter() - start:.0f} s")
            compiled = timed(lambda s=stacked, x=inputs: group_step(s, x), device, args.steps)
            rows.append(line("compiled", runs, compiled, epoch_eval))
        del models, stacked, inputs, tests
        if device.type == "cuda":
            torch.cuda.empty_cache()
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(device), "shape": args.shape,
                                               "precision": args.precision, "gflop_per_step": flops / 1e9,
                                               "matmul_flops": rate, "eval_seconds": eval_seconds,
                                               "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
