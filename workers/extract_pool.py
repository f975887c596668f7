"""A process pool for one-shot ingest's extraction, started on first use (spawned processes)."""

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class LazyProcessPool(Executor):
    """ProcessPoolExecutor(`processes`) created by the first `submit`: a run whose feeds are
    small never pays the second it takes to start the processes."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            if self._pool is None:
                # Spawned, not forked: the caller runs fetch threads, which a fork would copy
                # mid-flight.
                self._pool = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("spawn")
                )
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def __repr__(self) -> str:
        state: Any = "started" if self._pool else "not started"
        return f"LazyProcessPool({self.processes}, {state})"
