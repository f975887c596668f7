"""Sink runner: a consumer-group member that writes each batch to its target and acks it only
once the target confirmed; a target that is away is waited out, an event it refuses for good
goes to the dead letters with the target's answer."""

import contextlib
import logging
import time
from collections.abc import Callable

from newswire.services.backoff import Backoff
from newswire.services.delivery.subscribe import Consumer, Delivery, Patience
from newswire.services.errors import BrokerError, NewswireError
from newswire.services.metrics import SINK_EVENTS, Metrics
from newswire.services.outage import Outage

log = logging.getLogger(__name__)

# A target that is away: half a second, doubling, half a minute at most.
TARGET_BACKOFF = Backoff(first=0.5, cap=30.0)


class TargetDown(NewswireError):
    """The target cannot take writes now (unreachable, restarting, overloaded): the same batch
    is tried again after a pause, never dropped."""


class Refused(NewswireError):
    """The target took the batch but these events, each with its answer: they go to the dead
    letters, the others count as written."""

    def __init__(self, events: "list[tuple[Delivery, str]]") -> None:
        super().__init__(f"{len(events)} events refused")
        self.events = events


class Stopped(NewswireError):
    """The sink was asked to stop while its target was away: the batch stays unacked."""


class SinkRunner:
    """Runs one sink: `write(batch)` must be idempotent by event id and version, since a batch
    written but not yet acked when the process dies is read and written again."""

    def __init__(
        self,
        consumer: Consumer,
        write: Callable[[list[Delivery]], object],
        name: str,
        metrics: Metrics | None = None,
    ) -> None:
        self.consumer = consumer
        self.write = write
        self.name = name
        self.metrics = metrics
        self.written = 0
        self.dead = 0
        self._target = Outage(log)

    def run(
        self, stop: Callable[[], bool], *, until_idle: bool = False, block_ms: int = 1000
    ) -> int:
        """Deliver until `stop()` (or, with `until_idle`, until nothing is left); how many
        events the target confirmed."""
        redis = Patience()
        while not stop():
            try:
                batch = self.consumer.take(None if until_idle else block_ms)
                if not batch:
                    if until_idle:
                        break
                    continue
                self._deliver(batch, stop)
                self.consumer.ack_all(batch)
            except Stopped:
                break
            except BrokerError as exc:
                if until_idle:
                    raise
                redis.failed(exc)  # unacked entries come back to this member first
                continue
            redis.ok()
            self._count()
        self._count()
        return self.written

    def _deliver(self, batch: list[Delivery], stop: Callable[[], bool]) -> None:
        """Write the batch, waiting out the target's absence; when the target refuses it,
        each event alone, and the ones it refuses alone go to the dead letters."""
        waits = TARGET_BACKOFF.waits()
        while True:
            try:
                self.write(batch)
            except TargetDown as exc:
                self._target.failed(exc)
                self._incr("retried", len(batch))
                pause = next(waits)
                deadline = time.monotonic() + pause
                while time.monotonic() < deadline:
                    if stop():
                        raise Stopped("stopped while the target was away") from None
                    time.sleep(min(0.2, pause))
                continue
            except Refused as exc:
                for delivery, answer in exc.events:
                    self._give_up(delivery, answer)
                taken = len(batch) - len(exc.events)
                self.written += taken
                self._incr("written", taken)
                return
            except Exception as exc:
                if len(batch) > 1:
                    for one in batch:
                        self._deliver([one], stop)
                    return
                self._give_up(batch[0], f"{type(exc).__name__}: {exc}")
                return
            self._target.ok()
            self.written += len(batch)
            self._incr("written", len(batch))
            return

    def _give_up(self, delivery: Delivery, reason: str) -> None:
        log.warning("%s refused entry %s for good: %s", self.name, delivery.entry_id, reason)
        self.consumer.give_up(delivery, f"{self.name}: {reason[:1000]}")
        self.dead += 1
        self._incr("dead_letter", 1)

    def _incr(self, outcome: str, n: int) -> None:
        if self.metrics is not None:
            self.metrics.add(SINK_EVENTS, n, {"sink": self.name, "outcome": outcome})

    def _count(self) -> None:
        if self.metrics is not None:
            with contextlib.suppress(BrokerError):  # counted again with the next flush
                self.metrics.flush()
