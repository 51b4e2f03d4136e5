"""CPU attention layouts: head by head on column slices (the default) against the (B, H, L, D/H) layout.

    python bench/attention_layout.py [--rounds 6] [--steps 2]

The explicit CPU attention of ``MultiHeadAttention`` once viewed q, k, v as (B, H, L, D/H); batched
matmuls cannot read that layout in place, so q, k, v and the output were copied forward and their
gradients backward. It now works head by head on column slices, which they read in place. This
script times both, forward + backward, on one cross-attention of the paper's RG configuration
(B=48, Q=K=68, d_model 1024, 4 heads), checks that they agree, and then times whole fp32 training
steps (``bench/train_step.py``'s ``fp32`` path) with each, alternated in one process so that a busy
machine slows both alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from roofline import machine
from train_step import make_path

from longaqa.allocator import keep_freed_memory
from longaqa.models.attention import MultiHeadAttention


def head_major(self, q, k, v, key_valid, p, need_weights):
    """The previous layout: (B, H, L, D/H) views, which matmul copies to contiguous batches."""
    B, Lq, D = q.shape
    qs, ks, vs = (x.view(x.shape[0], x.shape[1], self.num_heads, -1).transpose(1, 2) for x in (q, k, v))
    logits = (qs @ ks.transpose(-2, -1)).float() / (qs.shape[-1] ** 0.5)  # (B, H, Q, K)
    if key_valid is not None:
        logits = logits.masked_fill(~self._head_mask(key_valid)[:, None], float("-inf"))
    probs = logits.softmax(-1)
    out = (F.dropout(probs, p) if p else probs).to(vs.dtype) @ vs  # (B, H, Q, D/H)
    return out.transpose(1, 2).reshape(B, Lq, D), probs.mean(1) if need_weights else None


LAYOUTS = {"head_major": head_major, "column_slices": MultiHeadAttention.explicit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=2, help="timed training steps per layout and round")
    parser.add_argument("--repeat", type=int, default=10, help="attention calls per timing")
    args = parser.parse_args()
    keep_freed_memory()
    print(f"machine: {machine(torch.device('cpu'))}")
    torch.manual_seed(0)
    B, L, D, H = 48, 68, 1024, 4
    attn = MultiHeadAttention(D, H)
    q, k, v = (torch.randn(B, L, D, requires_grad=True) for _ in range(3))
    grad = torch.randn(B, L, D)

    def core(layout):
        out, _ = LAYOUTS[layout](attn, q, k, v, None, 0.0, False)
        grads = torch.autograd.grad(out, (q, k, v), grad)
        return out, grads

    a, b = core("head_major"), core("column_slices")
    diff = max((x - y).abs().max().item() for x, y in zip((a[0], *a[1]), (b[0], *b[1])))
    print(f"largest difference, output and gradients: {diff:.2e}")

    _, _, step = make_path("fp32", B, 80, torch.device("cpu"), [])
    core_times = {name: [] for name in LAYOUTS}
    step_times = {name: [] for name in LAYOUTS}
    original = MultiHeadAttention.explicit
    try:
        for _ in range(args.rounds):
            for name, fn in LAYOUTS.items():
                start = time.perf_counter()
                for _ in range(args.repeat):
                    core(name)
                core_times[name].append((time.perf_counter() - start) / args.repeat)
                MultiHeadAttention.explicit = fn
                step()  # warm-up of this layout's allocations
                start = time.perf_counter()
                for _ in range(args.steps):
                    step()
                step_times[name].append((time.perf_counter() - start) / args.steps)
    finally:
        MultiHeadAttention.explicit = original
    for name in LAYOUTS:
        print(f"{name:14s} attention forward + backward: best {min(core_times[name]) * 1e3:.1f} ms, median "
              f"{statistics.median(core_times[name]) * 1e3:.1f} ms; fp32 training step: best "
              f"{min(step_times[name]):.3f} s, median {statistics.median(step_times[name]):.3f} s")
    print(f"column slices save {1 - min(core_times['column_slices']) / min(core_times['head_major']):.0%} of the "
          f"attention's time and {min(step_times['head_major']) - min(step_times['column_slices']):.3f} s per "
          f"step (best times)")


if __name__ == "__main__":
    main()
