"""What this machine can do, measured in the same run as a benchmark: matmul rates and counted FLOPs.

Imported by the scripts beside it (``python bench/<script>.py`` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def synced(fn: Callable[[], object], device: torch.device) -> Callable[[], None]:
    """``fn`` followed by :func:`sync`, so that a host clock around it times the device's work too."""

    def call() -> None:
        fn()
        sync(device)

    return call


def seconds(fn: Callable[[], object], device: torch.device, repeat: int = 1) -> float:
    """Wall time of ``repeat`` calls of ``fn``, divided by ``repeat``."""
    return clocks(fn, device, repeat)[0]


def clocks(fn: Callable[[], object], device: torch.device, repeat: int = 1) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process / torch threads) per call of ``fn``.

    On a CPU shared with other jobs the wall time counts the time other processes held the cores;
    the CPU time of this process divided by its thread count does not (it estimates the wall time
    of an idle machine, and can still be inflated by threads spinning while they wait).
    """
    sync(device)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        fn()
    sync(device)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall / repeat, cpu / torch.get_num_threads() / repeat


def matmul_rate(
    dtype: torch.dtype, device: torch.device, shape: tuple[int, int, int], repeat: int = 3
) -> float:
    """FLOP/s of ``(M, K) @ (K, N)`` in ``dtype``: the best of ``repeat`` timed multiplications."""
    m, k, n = shape
    a = torch.randn(m, k, device=device).to(dtype)
    b = torch.randn(k, n, device=device).to(dtype)
    a @ b  # warm-up
    best = min(seconds(lambda: a @ b, device) for _ in range(repeat))
    return 2 * m * k * n / best


def matmul_rates(
    dtype: torch.dtype, device: torch.device, shape: tuple[int, int, int], repeat: int = 3
) -> tuple[float, float]:
    """FLOP/s of ``(M, K) @ (K, N)`` by wall and by CPU clock (:func:`clocks`), best of ``repeat``."""
    m, k, n = shape
    a = torch.randn(m, k, device=device).to(dtype)
    b = torch.randn(k, n, device=device).to(dtype)
    a @ b  # warm-up
    runs = [clocks(lambda: a @ b, device) for _ in range(repeat)]
    flop = 2 * m * k * n
    return flop / min(r[0] for r in runs), flop / min(r[1] for r in runs)


def roofline(device: torch.device, shapes: list[tuple[int, int, int]]) -> dict[str, float]:
    """fp32 and bf16 matmul FLOP/s: the best over ``shapes`` (the highest rate is the limit).

    Keys ``fp32``, ``bf16`` (wall clock) and ``fp32_cpu``, ``bf16_cpu`` (CPU clock, see :func:`clocks`).
    """
    out = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        rates = [matmul_rates(dtype, device, s) for s in shapes]
        out[name] = max(r[0] for r in rates)
        out[f"{name}_cpu"] = max(r[1] for r in rates)
    return out


def _cpu_flash(query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query, key, value)


def _cpu_flash_backward(grad_out, query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_backward_flop_count(grad_out, query, key, value)


def flop_counter() -> FlopCounterMode:
    """torch's FLOP counter, taught the CPU flash-attention kernels (which it does not count itself)."""
    aten = torch.ops.aten
    return FlopCounterMode(
        display=False,
        custom_mapping={
            aten._scaled_dot_product_flash_attention_for_cpu: _cpu_flash,
            aten._scaled_dot_product_flash_attention_for_cpu_backward: _cpu_flash_backward,
        },
    )


class MatmulReplay:
    """The matrix multiplies (mm, addmm, bmm) one call of ``fn`` makes, replayed alone.

    Records every matmul's operator, shapes, strides (transposed operands stay transposed) and
    scalar arguments, makes new random tensors of the same layouts (one set per call, as the step's
    own operands are distinct tensors) and runs the calls in order: the time the step's matmuls take
    at its shapes and layouts with nothing else around them, the floor of the step's time with these
    kernels. Autograd is off in the replay; the operators are the same.
    """

    OPS = ("mm", "addmm", "bmm")

    def __init__(self, fn: Callable[[], object], device: torch.device):
        from torch.utils._python_dispatch import TorchDispatchMode

        ops = {getattr(torch.ops.aten, name).default for name in self.OPS}
        calls = []

        class Record(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                if func in ops:
                    calls.append((func, [(a.shape, a.stride(), a.dtype) if isinstance(a, torch.Tensor) else a
                                         for a in args], kwargs))
                return func(*args, **kwargs)

        with Record():
            fn()
        self.device = device
        self.flop = 0
        self.calls = []
        for func, specs, kwargs in calls:
            args = [self._tensor(*s) if isinstance(s, tuple) and isinstance(s[0], torch.Size) else s for s in specs]
            self.calls.append((func, args, kwargs))
            a, b = (args[1], args[2]) if func is torch.ops.aten.addmm.default else (args[0], args[1])
            self.flop += 2 * a.shape[:-1].numel() * a.shape[-1] * b.shape[-1]

    def _tensor(self, shape: torch.Size, stride: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        t = torch.empty_strided(shape, stride, dtype=dtype, device=self.device)
        return t.normal_()

    def __len__(self) -> int:
        return len(self.calls)

    def __call__(self) -> None:
        with torch.no_grad():
            for func, args, kwargs in self.calls:
                func(*args, **kwargs)


def machine(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"


def summary(times: list[float]) -> str:
    return f"best {min(times):.3f} s, median {statistics.median(times):.3f} s over {len(times)}"
