"""Outage: say once that Redis went away and once that it is back, never a traceback per tick."""

import logging
import threading
import time


class Outage:
    """Tracks one dependency's reachability for one loop (scheduler, heartbeat, consumer, ...).

    `failed()` on every failed attempt and `ok()` on every good one: the log gets one warning
    when an outage starts and one line when it ends, with its length.
    """

    def __init__(self, log: logging.Logger, what: str = "Redis") -> None:
        self._log = log
        self._what = what
        self._lock = threading.Lock()
        self.down_since: float | None = None  # time.time() of the first failure, while down
        self.last_error: str | None = None

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, exc: BaseException | str) -> None:
        with self._lock:
            self.last_error = str(exc)
            if self.down_since is None:
                self.down_since = time.time()
                self._log.warning("%s unreachable (%s); retrying until it is back", self._what, exc)

    def ok(self) -> None:
        if self.down_since is None:  # the common case, without the lock
            return
        with self._lock:
            if self.down_since is not None:
                self._log.warning(
                    "%s reachable again after %.1fs", self._what, time.time() - self.down_since
                )
                self.down_since = None
                self.last_error = None
