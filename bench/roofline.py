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
