"""Would transparent huge pages speed up the training step's work? The same operations on tensors in
4 KiB pages and in 2 MiB pages, alternated in one process.

    python bench/hugepages.py [--rounds 15] [--threads 0]

Operands at the paper's RG size, (48 x 68, 1024) fp32: an element-wise add, a layer norm, and the
three (3264, 1024) x (1024, 1024) products of a linear layer (forward, input gradient, weight
gradient), the last being the shape of the matmul limit of ``train_step.py``. The huge-page tensors
live in anonymous memory given ``madvise(MADV_HUGEPAGE)``, which is how torch's own
``THP_MEM_ALLOC_ENABLE=1`` allocates (Linux only; the kernel's setting must be ``always`` or
``madvise``). Best and median of ``--rounds`` per operation.
"""

from __future__ import annotations

import argparse
import ctypes
import math
import mmap
import statistics
import time

import torch
import torch.nn.functional as F
from roofline import machine

HUGE = 2 << 20
MADV_HUGEPAGE = 14


def tensor(shape: tuple[int, ...], huge: bool, keep: list) -> torch.Tensor:
    """A float32 tensor of ``shape`` in fresh anonymous memory, 2 MiB aligned, in huge pages if ``huge``."""
    count = math.prod(shape)
    size = (count * 4 // HUGE + 2) * HUGE
    region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    address = ctypes.addressof(ctypes.c_char.from_buffer(region))
    start = (address + HUGE - 1) & ~(HUGE - 1)
    if huge and ctypes.CDLL(None).madvise(ctypes.c_void_p(start), ctypes.c_size_t(size - (start - address)),
                                          MADV_HUGEPAGE):
        raise SystemExit("madvise(MADV_HUGEPAGE) failed: no transparent huge pages here")
    keep.append(region)
    return torch.frombuffer(region, dtype=torch.float32, offset=start - address, count=count).view(shape).normal_()


def huge_kib() -> int:
    """AnonHugePages of this process (KiB), or -1 where Linux does not report it."""
    try:
        for line in open("/proc/self/smaps_rollup", encoding="utf-8"):
            if line.startswith("AnonHugePages:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"machine: {machine(torch.device('cpu'))}")
    keep: list = []
    rows, d = 48 * 68, 1024
    operations = {}
    for huge in (False, True):
        x, y, out = (tensor((rows, d), huge, keep) for _ in range(3))
        w, w_out = tensor((d, d), huge, keep), tensor((d, d), huge, keep)
        operations[huge] = {
            "add": lambda x=x, y=y, out=out: torch.add(x, y, out=out),
            "layer norm": lambda x=x: F.layer_norm(x, (d,)),
            "x @ W^T (forward)": lambda x=x, w=w, out=out: torch.mm(x, w.t(), out=out),
            "g @ W (input gradient)": lambda x=x, w=w, out=out: torch.mm(x, w, out=out),
            "g^T @ x (weight gradient)": lambda x=x, y=y, w_out=w_out: torch.mm(y.t(), x, out=w_out),
        }
    print(f"huge pages in this process: {huge_kib()} KiB")
    times: dict[tuple[bool, str], list[float]] = {}
    for _ in range(args.rounds):
        for huge in (False, True):
            for name, op in operations[huge].items():
                start = time.perf_counter()
                op()
                times.setdefault((huge, name), []).append(time.perf_counter() - start)
    print(f"{'operation':28s} {'4 KiB pages best / median':>28s} {'2 MiB pages best / median':>28s}  best ratio")
    for name in operations[False]:
        small, large = times[(False, name)], times[(True, name)]
        print(f"{name:28s} {min(small) * 1e3:12.2f} / {statistics.median(small) * 1e3:6.2f} ms "
              f"{min(large) * 1e3:12.2f} / {statistics.median(large) * 1e3:6.2f} ms  {min(small) / min(large):9.3f}")


if __name__ == "__main__":
    main()
