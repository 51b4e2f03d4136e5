"""The allocator setting that keeps freed memory for reuse (``train.cpu_malloc: reuse``)."""

from __future__ import annotations

import pytest
import torch


def test_keep_freed_memory_stops_page_faults_for_repeated_large_blocks():
    """After ``keep_freed_memory`` a freed 13 MiB block (one activation of the paper's model) is reused:
    allocating and touching it again faults in no new pages. Without it glibc maps fresh memory."""
    import resource
    import sys

    from longaqa.allocator import keep_freed_memory

    if not sys.platform.startswith("linux") or not keep_freed_memory():
        pytest.skip("glibc malloc only")

    def faults_of_a_step() -> int:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(5):
            x = torch.ones(48, 68, 1024)  # 13 MiB, written by every page
            del x
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    faults_of_a_step()  # warm: the heap grows once
    assert faults_of_a_step() < 100  # a fresh 13 MiB block alone is about 3,300 pages
