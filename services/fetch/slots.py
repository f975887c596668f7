"""Slots: how many requests one process has in flight to one server (host and port) at once."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from newswire.services.identity.urls import origin

# Seconds a request waits for its server's turn at most (the task's soft time limit leaves
# 10 s beside a whole fetch deadline).
MAX_WAIT = 5.0


class HostSlots:
    """At most `per_server` requests at once to one server; the others wait their turn. A
    batch's pages usually share a host, and a small server drops connections beyond its
    listen backlog (each such fetch then waits out a 1 s SYN retransmit), besides politeness:
    the rate limit spaces requests in time, this bounds how many overlap.

    A turn is waited for `max_wait` seconds at most; then the request goes anyway. A burst
    (what overruns a backlog) is over in milliseconds, while a server that takes its whole
    deadline per page must not stretch a batch past the task's time limit."""

    def __init__(self, per_server: int, max_wait: float = MAX_WAIT) -> None:
        self._per_server = per_server
        self._max_wait = max_wait
        # server -> its semaphore and how many hold or wait for it: dropped at zero, so a
        # worker that meets a million hosts keeps only those it is fetching from.
        self._slots: dict[str, tuple[threading.BoundedSemaphore, list[int]]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._slots)

    @contextmanager
    def hold(self, url: str) -> Iterator[None]:
        """A slot of `url`'s server for the block, or the block after `max_wait` without one
        (none to take for a URL without an origin: the guard refuses it anyway)."""
        server = origin(url)
        if server is None:
            yield
            return
        with self._lock:
            if server not in self._slots:
                self._slots[server] = (threading.BoundedSemaphore(self._per_server), [0])
            slot, users = self._slots[server]
            users[0] += 1
        held = slot.acquire(timeout=self._max_wait)
        try:
            yield
        finally:
            if held:
                slot.release()
            with self._lock:
                users[0] -= 1
                if not users[0]:
                    del self._slots[server]
