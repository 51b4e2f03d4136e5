"""Keep freed CPU memory in the process for reuse, so training steps do not fault in fresh pages.

A training step of the paper's model allocates and frees tens of activation tensors of 13 MiB each
(batch 48 x 68 queries x 1024 channels, fp32). glibc's malloc serves blocks that large with fresh
``mmap`` calls, or returns the top of its heap to the system when it is freed, so each step faults in
and zero-fills tens of thousands of new pages. :func:`keep_freed_memory`
raises glibc's mmap threshold to its maximum (32 MiB) and its trim threshold to ``keep_bytes``, so
freed blocks are reused by the next step instead (no page faults once warm; the figures are in
``bench/RESULTS.md``). The cost: the process keeps its peak memory until it exits.

This is what ``train.cpu_malloc: reuse`` (the default) does when training on a CPU; ``system``
leaves malloc as it is. Other C libraries (macOS, musl) are left alone. Results do not change.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 * 2**20
"""glibc's largest allowed mmap threshold on 64-bit systems (``DEFAULT_MMAP_THRESHOLD_MAX``)."""

_applied = False


def keep_freed_memory(keep_bytes: int = 4 * 2**30) -> bool:
    """Tune glibc's malloc to reuse freed blocks (see the module docstring). True when it applied."""
    global _applied
    if _applied:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc only  # noqa: B018
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    keep = min(int(keep_bytes), 2**31 - 1)
    _applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)) and bool(mallopt(M_TRIM_THRESHOLD, keep))
    return _applied
