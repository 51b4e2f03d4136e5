"""The additive head's background rule (``longaqa.models.background``, docs/additive.md) on generated routines.

For each generator (``longaqa.data.generators``; the held-out one reported apart), on the clip features
as written (the model applies the rule to ``input_proj`` of them, a linear map of the same features):
- how well the rule finds the connecting movement: the share of the clips it calls background
  (foreground < 0.5) that are truly off the elements (truth ``element_type`` -1), and the share of
  the truly off-element clips it calls background; the mean foreground on each;
- how stable it is: for every clip k, hide it and sum |change| of every other clip's foreground
  (summed change: mean, 95th percentile and maximum over the clips of all videos). 0 means hiding a clip moves no
  other clip's part through the background.

    python bench/background_rule.py                  # every generator, 40 videos each
    python bench/background_rule.py --generators skating --videos 10
    python bench/background_rule.py --rule recurrent  # model.background_rule: recurrent
    python bench/background_rule.py --time      # its cost per batch at the releases' shapes, one thread
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from longaqa.data.generators import GENERATORS, write_generated
from longaqa.interpret.perturbation import leave_one_out_masks
from longaqa.models.additive import LocalParts
from longaqa.models.background import RULES


def measure(x: np.ndarray, kinds: np.ndarray | None, rule: LocalParts) -> dict:
    """Agreement with the truth and leave-one-out stability of the rule on one video's features (T, F)."""
    t = torch.as_tensor(x, dtype=torch.float32)[None]
    n = t.shape[1]
    fg = rule.foreground(t.expand(n + 1, -1, -1), leave_one_out_masks(n)).numpy()  # (n + 1, n): row k + 1 hides k
    moved = [float(np.abs(np.delete(fg[k + 1] - fg[0], k)).sum()) for k in range(n)]
    row = {"moved": moved}
    if kinds is not None:
        called, off = fg[0] < 0.5, kinds < 0
        row.update(called=called, off=off, fg=fg[0])
    return row


def time_rule(rule: LocalParts) -> None:
    """Milliseconds per call of the rule on a batch at the paper's shapes (best of 5, one thread)."""
    torch.set_num_threads(1)
    for batch, clips in ((48, 77), (32, 175)):  # RG (batch 48, the longest video) and Fis-V (its longest)
        x, valid = torch.randn(batch, clips, 1024), torch.ones(batch, clips, dtype=torch.bool)
        rule.foreground(x, valid)
        best = min(_seconds(rule, x, valid) for _ in range(5))
        print(f"foreground of {batch} videos x {clips} clips x 1024: {best * 1000:.1f} ms (one thread)")


def _seconds(rule: LocalParts, x: torch.Tensor, valid: torch.Tensor) -> float:
    start = time.perf_counter()
    rule.foreground(x, valid)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generators", nargs="*", default=list(GENERATORS), choices=list(GENERATORS))
    p.add_argument("--videos", type=int, default=40)
    p.add_argument("--feature-dim", type=int, default=256)
    p.add_argument("--rg-clips", type=int, nargs=2, default=[28, 36], metavar=("MIN", "MAX"))
    p.add_argument("--fisv-clips", type=int, nargs=2, default=[36, 48], metavar=("MIN", "MAX"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--share", type=float, default=0.25, help="model.background_share")
    p.add_argument("--rule", default="densest", choices=[r for r in RULES if r != "learned"],
                   help="model.background_rule (not learned: that one is trained with the model)")
    p.add_argument("--time", action="store_true", help="time the rule at the releases' shapes instead")
    args = p.parse_args()
    rule = LocalParts(8, 8, 0, 1, 0.0, background=args.share, background_rule=args.rule)
    if args.time:
        time_rule(rule)
        return
    print("| generator | clips | background called: truly off elements | off-element clips called "
          "background | mean foreground off / on elements | hiding one clip: summed change, mean / p95 / max |")
    print("|---|---|---|---|---|---|")
    for kind in sorted(args.generators, key=lambda k: GENERATORS[k].held_out):
        info = GENERATORS[kind]
        clips = args.fisv_clips if info.layout == "fisv" else args.rg_clips
        with tempfile.TemporaryDirectory() as tmp:
            root = write_generated(kind, Path(tmp) / kind, seed=args.seed, num_train=args.videos, num_test=1,
                                   feature_dim=args.feature_dim, min_clips=clips[0], max_clips=clips[1])
            rows = []
            folder = root / ("features" if info.layout == "generic" else "swintx_avg_fps25_clip32")
            for f in sorted(folder.glob("*.npy"))[: args.videos]:
                truth = np.load(root / "truth" / f"{f.stem}.npz")
                kinds = truth["element_type"] if "element_type" in truth.files else None
                rows.append(measure(np.load(f), kinds, rule))
        moved = np.concatenate([r["moved"] for r in rows])
        stable = f"{moved.mean():.3f} / {np.percentile(moved, 95):.3f} / {moved.max():.2f}"
        name = f"{kind}{' (held out)' if info.held_out else ''}"
        if "called" in rows[0]:
            called = np.concatenate([r["called"] for r in rows])
            off = np.concatenate([r["off"] for r in rows])
            fg = np.concatenate([r["fg"] for r in rows])
            print(f"| {name} | {clips[0]}-{clips[1]} | {np.mean(off[called]):.3f} | {np.mean(called[off]):.3f} | "
                  f"{fg[off].mean():.3f} / {fg[~off].mean():.3f} | {stable} |")
        else:  # no element truth (multiplicative): stability only
            print(f"| {name} | {clips[0]}-{clips[1]} | - | - | - | {stable} |")


if __name__ == "__main__":
    main()
