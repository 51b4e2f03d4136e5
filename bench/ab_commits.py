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
    """Time ``steps`` steps of ``path`` with the code of ``tree``; prints the times, one per line."""
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
        start = time.perf_counter()
        step()
        print(f"{time.perf_counter() - start:.4f}", flush=True)


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
            for run in range(args.runs):
                for name, tree in zip(names, trees):
                    out = subprocess.run([sys.executable, __file__, "--child", str(tree), "--path", args.path,
                                          "--steps", str(args.steps)], check=True, capture_output=True, text=True)
                    lines = [line.strip() for line in out.stdout.splitlines()]
                    times = [float(line) for line in lines if line.replace(".", "", 1).isdigit()]
                    best[name].append(min(times))
                    print(f"run {run + 1} {name}: {' '.join(f'{t:.3f}' for t in times)} s", flush=True)
        finally:
            for tree in trees:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                               capture_output=True)
    for name in names:
        print(f"{name}: best {min(best[name]):.3f} s, median of the runs' best {statistics.median(best[name]):.3f} s "
              f"({args.path} step, {args.runs} runs of {args.steps} steps)")
    old, new = names
    print(f"{new} / {old}: best {min(best[new]) / min(best[old]):.3f}, median of bests "
          f"{statistics.median(best[new]) / statistics.median(best[old]):.3f}")


if __name__ == "__main__":
    main()
