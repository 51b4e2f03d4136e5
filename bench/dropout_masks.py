"""Where CPU dropout masks get their random bits: torch's generator, numpy's PCG64 on one thread, and
PCG64 on two threads (the default).

    python bench/dropout_masks.py [--rounds 8] [--steps 6]

Times the random words of one (48, 68, 1024) mask each way, then whole fp32 training steps of the
paper's RG configuration (``bench/train_step.py``'s ``fp32`` path) with the masks drawing from each
source (``longaqa.models.fastpath.dropout.random_words``; with two threads the masks are also written there),
in turn in one process so that a busy machine slows them alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from roofline import machine
from train_step import make_path

import longaqa.models.fastpath.dropout as fast_dropout
from longaqa.allocator import keep_freed_memory


def torch_words(count: int, consume) -> None:
    """The first source: torch's CPU generator (mt19937, one thread), every bit uniform."""
    draws = torch.empty(count, dtype=torch.int64)
    draws.random_(-(2**63), 2**63 - 1)  # random_() without bounds leaves the sign bit 0
    consume(draws.numpy(), 0)


def pcg64_one_thread(count: int, consume) -> None:
    """The second source: one PCG64 stream on the calling thread."""
    seed = int(torch.randint(0, 2**62, (1,)))
    consume(np.random.PCG64([seed, 0]).random_raw(count).view(np.int64), 0)


def ignore(words, offset) -> None:
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="timed draws of one mask per source")
    parser.add_argument("--steps", type=int, default=6, help="timed training steps per source")
    args = parser.parse_args()
    keep_freed_memory()
    print(f"machine: {machine(torch.device('cpu'))}")
    sources = {"torch": torch_words, "pcg64": pcg64_one_thread, "pcg64x2": fast_dropout.random_words}
    words = 48 * 68 * 1024 // 4
    draw = {name: [] for name in sources}
    for _ in range(args.rounds):
        for name, fn in sources.items():
            start = time.perf_counter()
            fn(words, ignore)
            draw[name].append(time.perf_counter() - start)
    for name, times in draw.items():
        print(f"{name:7s} {words:,} words (one mask): best {min(times) * 1e3:.2f} ms, "
              f"median {statistics.median(times) * 1e3:.2f} ms")

    _, _, step = make_path("fp32", 48, 80, torch.device("cpu"), [])
    step()
    steps = {name: [] for name in sources}
    for r in range(args.steps):
        for name in list(sources)[r % len(sources):] + list(sources)[:r % len(sources)]:
            fast_dropout.random_words = sources[name]
            start = time.perf_counter()
            step()
            steps[name].append(time.perf_counter() - start)
    fast_dropout.random_words = sources["pcg64x2"]
    for name, times in steps.items():
        print(f"{name:7s} fp32 training step: best {min(times):.3f} s, median {statistics.median(times):.3f} s "
              f"({', '.join(f'{t:.3f}' for t in times)})")


if __name__ == "__main__":
    main()
