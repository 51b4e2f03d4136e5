"""The fp32 training step at two commits, alternated: did a change make the step faster?

    python bench/ab_commits.py OLD NEW [--runs 5] [--steps 4] [--path fp32]

Checks both commits out in temporary git worktrees and runs ``bench/train_step.py``'s step of one
path (the paper's RG configuration) at each in turn, each run a fresh process with that commit's
``src`` and ``bench`` first on ``sys.path``. A run times ``--steps`` steps after one warm-up step.
On a machine shared with other jobs the wall time of one run varies by 10-20%, so the runs of the two
commits alternate, and the summary gives the best step and the median of each run's best step.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def child(tree: Path, path: str, steps: int) -> None:
    """Time ``steps`` steps of ``path`` with the code of ``tree``; prints wall and CPU seconds per step
    (this process's CPU time / torch threads, which leaves out time other jobs held the cores), a line each."""
    sys.path[:0] = [str(tree / "src"), str(tree / "bench")]
    import torch
    from train_step import make_path

    import longaqa
    from longaqa.allocator import keep_freed_memory

    assert Path(longaqa.__file__).resolve().is_relative_to(tree.resolve()), longaqa.__file__
    keep_freed_memory()
    _, _, step = make_path(path, 48, 80, torch.device("cpu"), [])
    step()
    for _ in range(steps):
        start, cpu = time.perf_counter(), time.process_time()
        step()
        wall, cpu = time.perf_counter() - start, (time.process_time() - cpu) / torch.get_num_threads()
        print(f"step {wall:.4f} {cpu:.4f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commits", nargs="*", help="two commits (anything git rev-parse takes)")
    parser.add_argument("--runs", type=int, default=5, help="runs per commit, alternated")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per run")
    parser.add_argument("--path", default="fp32", choices=("plain", "fp32", "fastest"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args.path, args.steps)
        return
    if len(args.commits) != 2:
        parser.error("give two commits")
    names = [subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", c], check=True, capture_output=True,
                            text=True).stdout.strip() for c in args.commits]
    with tempfile.TemporaryDirectory(prefix="longaqa-ab-") as tmp:
        trees = [Path(tmp) / f"{i}-{name}" for i, name in enumerate(names)]
        try:
            for name, tree in zip(names, trees):
                subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(tree), name],
                               check=True)
            best: dict[str, list[float]] = {name: [] for name in names}
            best_cpu: dict[str, list[float]] = {name: [] for name in names}
            for run in range(args.runs):
                for name, tree in zip(names, trees):
                    out = subprocess.run([sys.executable, __file__, "--child", str(tree), "--path", args.path,
                                          "--steps", str(args.steps)], check=True, capture_output=True, text=True)
                    rows = [line.split()[1:] for line in out.stdout.splitlines() if line.startswith("step ")]
                    times, cpus = [float(r[0]) for r in rows], [float(r[1]) for r in rows]
                    best[name].append(min(times))
                    best_cpu[name].append(min(cpus))
                    print(f"run {run + 1} {name}: {' '.join(f'{t:.3f}' for t in times)} s "
                          f"(CPU clock {' '.join(f'{t:.3f}' for t in cpus)})", flush=True)
        finally:
            for tree in trees:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                               capture_output=True)
    for name in names:
        print(f"{name}: best {min(best[name]):.3f} s, median of the runs' best {statistics.median(best[name]):.3f} s; "
              f"CPU clock {min(best_cpu[name]):.3f} s, {statistics.median(best_cpu[name]):.3f} s "
              f"({args.path} step, {args.runs} runs of {args.steps} steps)")
    old, new = names
    for label, table in (("wall", best), ("CPU clock", best_cpu)):
        print(f"{new} / {old} ({label}): best {min(table[new]) / min(table[old]):.3f}, median of bests "
              f"{statistics.median(table[new]) / statistics.median(table[old]):.3f}")


if __name__ == "__main__":
    main()
