"""A worker process hands freed heap pages back to the system now and then (glibc's
malloc_trim), not after every task."""

import platform

import pytest
from newswire.workers import memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_the_heap_is_trimmed_at_most_every_trim_every_seconds() -> None:
    start = 1_000_000.0  # a clock far past any trim this process made already
    assert memory.trim_heap(start)
    assert not memory.trim_heap(start + memory.TRIM_EVERY / 2)
    assert memory.trim_heap(start + memory.TRIM_EVERY)
