"""A worker process hands freed heap pages back to the system now and then (glibc's
malloc_trim), not after every task."""

import platform

import pytest
from newswire.workers import memory

from tests.support.processes import fresh_python


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_the_heap_is_trimmed_at_most_every_trim_every_seconds() -> None:
    start = 1_000_000.0  # a clock far past any trim this process made already
    assert memory.trim_heap(start)
    assert not memory.trim_heap(start + memory.TRIM_EVERY / 2)
    assert memory.trim_heap(start + memory.TRIM_EVERY)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_finding_malloc_trim_starts_no_process() -> None:
    """Every worker imports this at start-up: a helper program run then (ctypes' find_library
    runs `ldconfig -p`) would be a stray child of the worker beside its pool processes."""
    script = (
        "import subprocess\n"
        "started = []\n"
        "class Recorded(subprocess.Popen):\n"
        "    def __init__(self, args, *a, **kw):\n"
        "        started.append(args)\n"
        "        super().__init__(args, *a, **kw)\n"
        "subprocess.Popen = Recorded\n"
        "from newswire.workers import memory\n"
        "print(started, memory._trim is not None)\n"
    )
    done = fresh_python(script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] True"
