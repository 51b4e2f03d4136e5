"""torch's CPU threads: ``train.num_threads`` when set, else torch's default capped at the cores this
process may run on.

torch sizes its default thread pool from the machine's cores, not from the ones the process is allowed
(``taskset``, cpusets, a batch scheduler's allocation): more threads than cores then fight over them,
and a run can be many times slower than with one thread per core.
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; all cores where that is unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no sched_getaffinity (macOS, Windows)
        return os.cpu_count() or 1


def set_torch_threads(num_threads: int = 0) -> int:
    """Set torch's intra-op threads to ``num_threads`` (``train.num_threads``) when positive; with 0,
    lower torch's default to :func:`usable_cores` when it is above. Returns the thread count in use."""
    import torch

    if num_threads > 0:
        torch.set_num_threads(num_threads)
    elif torch.get_num_threads() > (cores := usable_cores()):
        torch.set_num_threads(cores)
    return torch.get_num_threads()
