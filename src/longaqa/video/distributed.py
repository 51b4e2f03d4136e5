"""Sharding extraction over processes started by ``torchrun`` (one node or several).

``torchrun`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; without them this is one process.
Each process takes every ``WORLD_SIZE``-th video (``longaqa.video.extract.extract_all``) on its own
device (``cuda:<LOCAL_RANK % GPUs>`` when CUDA is used, else the CPU); the process group (gloo)
only gathers the per-process reports at the end. The output folder must be shared by
all nodes. The group is always ended with a barrier and ``destroy_process_group`` before the
process exits (on torch 2.13 a gloo group left alive can abort the interpreter at exit).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from longaqa.errors import LongAQAError


@dataclass
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    initialized: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def choose_device(name: str, local_rank: int) -> torch.device:
    """``auto``: ``cuda:LOCAL_RANK`` when CUDA is available, else the CPU; or ``cpu`` / ``cuda``."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise LongAQAError("--device cuda but no CUDA device is available")
        index = local_rank % torch.cuda.device_count() if name == "cuda" else torch.device(name).index
        torch.cuda.set_device(index)
        return torch.device("cuda", index)
    if name != "cpu":
        raise LongAQAError(f"--device must be auto, cpu or cuda[:N], got {name!r}")
    return torch.device("cpu")


def init_distributed(device: str = "auto") -> DistContext:
    """Join the ``torchrun`` process group when there is one; pick this process's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = choose_device(device, local_rank)
    ctx = DistContext(rank, world_size, local_rank, dev)
    if world_size > 1:
        import torch.distributed as dist

        # gloo even on GPUs: the group only gathers small reports, and gloo (unlike NCCL) allows
        # several processes per GPU, which helps when decoding on the CPU is the bottleneck
        dist.init_process_group("gloo")
        ctx.initialized = True
    return ctx


def gather(ctx: DistContext, obj) -> list:
    """Every process's ``obj``, in rank order (``[obj]`` for one process)."""
    if not ctx.initialized:
        return [obj]
    import torch.distributed as dist

    gathered: list = [None] * ctx.world_size
    dist.all_gather_object(gathered, obj)
    return gathered


def barrier(ctx: DistContext) -> None:
    if ctx.initialized:
        import torch.distributed as dist

        dist.barrier()


def finish(ctx: DistContext, failed: bool = False) -> None:
    """End the process group: barrier (skipped when this process ``failed``, as the others may never
    reach it), then ``destroy_process_group``."""
    if not ctx.initialized:
        return
    import torch.distributed as dist

    try:
        if not failed:
            dist.barrier()
    finally:
        dist.destroy_process_group()
        ctx.initialized = False
