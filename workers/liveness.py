"""Consumer liveness: what a worker's task consumer is actually doing, and a watchdog that ends
the process when it has not been able to consume for too long.

A Celery worker can lose its consumer while the process lives on (see workers/transport.py):
the pool idles, the heartbeat thread keeps beating and nothing restarts it. So liveness is
taken from the consumer itself: a consumer bootstep marks when the consumer is connected and
running, a timer in its event loop proves the loop turns, and the heartbeat thread reads both.
"""

import contextlib
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from celery import bootsteps

log = logging.getLogger(__name__)

ConsumerState = Literal["consuming", "reconnecting", "stalled"]
LOOP_TICK = 1.0  # seconds between proofs of life from the consumer's event loop
LOOP_STALE = 5.0  # a loop silent for this long is not consuming
EXIT_STALLED = 70  # the exit code of a worker ended by the watchdog


@dataclass
class Liveness:
    """Written by the consumer's thread, read by the heartbeat thread (plain floats: atomic)."""

    running: bool = False  # the consumer's steps started (connected, queues consumed)
    has_loop: bool = False  # an event loop (prefork) proves itself by ticking
    last_loop: float = 0.0  # time.monotonic() of the loop's last tick
    not_consuming_since: float | None = None  # time.time(); None while consuming
    fault: str = ""  # fault injection: what happens to the consumer on its next loop tick

    def state(
        self,
        stall_seconds: float,
        now: float | None = None,
        reachable_since: float | None = None,
        wedge_seconds: float | None = None,
    ) -> ConsumerState:
        """consuming, reconnecting (for less than `stall_seconds`) or stalled. With
        `reachable_since` (time.time() since which Redis has answered without a break; None
        while it does not), not consuming for `wedge_seconds` of that time is stalled too:
        the consumer is wedged, not waiting for Redis."""
        now = time.time() if now is None else now
        consuming = self.running and (
            not self.has_loop or time.monotonic() - self.last_loop < LOOP_STALE
        )
        if consuming:
            self.not_consuming_since = None
            return "consuming"
        if self.not_consuming_since is None:
            # A loop that went silent stopped consuming at its last tick, not when noticed.
            silent = time.monotonic() - self.last_loop if self.running and self.has_loop else 0.0
            self.not_consuming_since = now - silent
        if now - self.not_consuming_since > stall_seconds:
            return "stalled"
        wedged = (
            reachable_since is not None
            and wedge_seconds is not None
            and now - max(self.not_consuming_since, reachable_since) > wedge_seconds
        )
        return "stalled" if wedged else "reconnecting"


LIVENESS = Liveness(not_consuming_since=time.time())  # this worker process's consumer


@dataclass
class ExitCode:
    code: int = 0


EXIT = ExitCode()  # the worker's exit code, as Celery decided it


class ConsumerLiveness(bootsteps.StartStopStep):  # type: ignore[misc]
    """Consumer bootstep: started once the task consumer consumes, stopped when the broker
    connection is lost (Celery stops the steps before reconnecting)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, c: Any) -> None:
        LIVENESS.running = True
        LIVENESS.last_loop = time.monotonic()
        LIVENESS.has_loop = c.hub is not None
        if c.hub is not None:
            # Entries added here belong to this connection: Celery cancels them on reconnect
            # and this step adds them again.
            c.hub.call_repeatedly(LOOP_TICK, _loop_tick, c)
            c.hub.on_tick.add(_maybe_fail)

    def stop(self, c: Any) -> None:
        LIVENESS.running = False
        if c.hub is not None:
            c.hub.on_tick.discard(_maybe_fail)

    def shutdown(self, c: Any) -> None:
        self.stop(c)


def _loop_tick(c: Any) -> None:
    """Proof of life from the event loop, given only while the task consumer holds a
    connection and consumes at least one queue."""
    consumer = c.task_consumer
    if c.connection is not None and consumer is not None and consumer.channel.active_queues:
        LIVENESS.last_loop = time.monotonic()


FaultKind = Literal["", "wedge", "crash"]


class InjectedConsumerFault(AttributeError):
    """What the `crash` fault raises: the same kind of error as kombu's upstream bug, at the
    same place (the consumer's event loop), so Celery's consumer dies as it would."""


def _maybe_fail() -> None:
    if LIVENESS.fault == "crash":
        LIVENESS.fault = ""
        raise InjectedConsumerFault("injected fault: 'NoneType' object has no attribute 'hostname'")
    if LIVENESS.fault == "wedge":
        # The consumer's thread blocks for good, the process lives on: the silent stall.
        threading.Event().wait()


def enable_fault_injection(kind: FaultKind) -> None:
    """Tests and the chaos soak (NEWSWIRE_FAULT_INJECTION): SIGUSR2 makes this worker's task
    consumer crash (`crash`, as kombu's bug does) or hang for good (`wedge`)."""

    def arm(*_: object) -> None:
        LIVENESS.fault = kind

    signal.signal(signal.SIGUSR2, arm)


def end_stalled_worker(pool_pids: list[int]) -> None:
    """The watchdog's verdict: stop the pool children and exit non-zero, now.

    No warm shutdown: with a dead consumer it can hang, which is the failure this ends. The
    tasks the children were running are still unacked in Redis and come back after the
    visibility timeout; publishing is idempotent, so nothing is lost or doubled.
    """
    for pid in pool_pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    logging.shutdown()
    os._exit(EXIT_STALLED)


def pool_pids(controller: Any) -> list[int]:
    """PIDs of a prefork pool's children (none for other pools)."""
    procs = getattr(getattr(getattr(controller, "pool", None), "_pool", None), "_pool", None)
    return [p.pid for p in procs or [] if getattr(p, "pid", None)]
