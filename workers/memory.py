"""Memory: a long-lived worker process's heap kept in hand (gc freeze, freed pages returned)."""

import ctypes
import gc
import time
from collections.abc import Callable
from typing import Any

from celery.signals import task_postrun

# Freed pages are handed back at most this often: a trim walks the heap (~1.5 ms here).
TRIM_EVERY = 10.0


def _find_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    try:
        # The symbols this process already has loaded, libc's among them. Not
        # ctypes.util.find_library: on Linux it runs `ldconfig -p` as a child process of
        # every worker at start-up, a stray child beside the pool processes.
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_trim = _find_trim()
_last_trim = 0.0
_frozen = False


def freeze_once() -> None:
    """After this process's first batch, everything it has loaded since the fork (connections,
    caches; the libraries and the language model were frozen before it, `warmup.py`) is moved
    out of the garbage collector's sight: a full collection would otherwise walk those
    long-lived objects again and again."""
    global _frozen  # noqa: PLW0603 -- once per process, by design
    if not _frozen:
        _frozen = True
        freeze()


def freeze() -> None:
    """Collect, then move every object left out of the garbage collector's sight."""
    gc.collect()  # the garbage first: frozen, it would never be freed
    gc.freeze()


def trim_heap(now: float | None = None) -> bool:
    """Return the heap's free pages to the system if the last time was TRIM_EVERY ago; whether
    it did. Without it, parsing pages in several threads fragments glibc's arenas and a
    worker's RSS creeps up with every thousand articles although nothing is kept."""
    global _last_trim  # noqa: PLW0603 -- one clock per process, by design
    now = time.monotonic() if now is None else now
    if _trim is None or now - _last_trim < TRIM_EVERY:
        return False
    _last_trim = now
    _trim(0)
    return True


@task_postrun.connect
def _after_task(**_kw: Any) -> None:
    trim_heap()
