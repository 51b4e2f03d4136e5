"""Would torch.compile make the fp32 training step faster here? Eager against inductor, same run.

    python bench/compile_check.py [--what block model] [--rounds 5] [--device cuda]

``block``: one post-norm residual block at the paper's shape, ``layer_norm(x + dropout(branch))`` with
the dropout codes given, forward and backward: the element-wise work that eager PyTorch runs as
separate passes and inductor could fuse. ``model``: a whole fp32 training step of the paper's RG
configuration (``bench/train_step.py``'s ``fp32`` path) with the model wrapped in ``torch.compile``.
Times are the best of ``--rounds``; compile time is reported apart. Needs a C++ compiler (CPU) or
Triton (CUDA, ``--device cuda``: the whole-step check on the GPU; the block check stays on the CPU).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from roofline import machine, synced
from train_step import make_path

from longaqa.allocator import keep_freed_memory


def best_of(fn, rounds: int) -> float:
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def check_block(rounds: int) -> None:
    shape, p = (48, 68, 1024), 0.7
    threshold = 32768 - round((1 - p) * 65536)
    gen = torch.Generator().manual_seed(0)
    tgt = torch.randn(shape, generator=gen, requires_grad=True)
    branch = torch.randn(shape, generator=gen, requires_grad=True)
    weight = torch.ones(shape[-1], requires_grad=True)
    bias = torch.zeros(shape[-1], requires_grad=True)
    codes = torch.randint(-32768, 32767, shape, generator=gen, dtype=torch.int16)
    grad = torch.randn(shape, generator=gen)

    def block(tgt, branch, codes, weight, bias):
        keep = (codes >= threshold).to(torch.float32)
        return F.layer_norm(torch.addcmul(tgt, branch, keep, value=1 / (1 - p)), shape[-1:], weight, bias)

    compiled = torch.compile(block, dynamic=False)
    start = time.perf_counter()
    compiled(tgt, branch, codes, weight, bias).backward(grad)
    print(f"block: compiled in {time.perf_counter() - start:.1f} s")
    torch.testing.assert_close(compiled(tgt, branch, codes, weight, bias), block(tgt, branch, codes, weight, bias))
    for name, fn in (("eager", block), ("compiled", compiled)):
        forward = best_of(lambda fn=fn: fn(tgt, branch, codes, weight, bias), rounds)
        both = best_of(lambda fn=fn: fn(tgt, branch, codes, weight, bias).backward(grad), rounds)
        print(f"block {name:8s} forward {forward * 1e3:7.2f} ms, forward + backward {both * 1e3:7.2f} ms")


def check_model(rounds: int, device: torch.device) -> None:
    _, _, eager_path = make_path("fp32", 48, 80, device, [])
    _, model, compiled_path = make_path("fp32", 48, 80, device, [])
    eager_step, compiled_step = synced(eager_path, device), synced(compiled_path, device)
    model.forward = torch.compile(model.forward, dynamic=False)
    start = time.perf_counter()
    compiled_step()
    print(f"model: compiled in {time.perf_counter() - start:.1f} s")
    print(f"model step eager    {best_of(eager_step, rounds):.3f} s")
    print(f"model step compiled {best_of(compiled_step, rounds):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--what", nargs="+", choices=("block", "model"), default=["block", "model"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="device of the whole-step check")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cpu":
        keep_freed_memory()
    print(f"machine: {machine(device)}")
    if "block" in args.what:
        check_block(args.rounds)
    if "model" in args.what:
        check_model(args.rounds, device)


if __name__ == "__main__":
    main()
