"""Metrics: counters every process adds to in one Redis hash, read back by the monitor."""

import bisect
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import redis
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.errors import BrokerError, FetchError, FetchKind
from newswire.services.settings import default

log = logging.getLogger(__name__)

# Counter names, as exported (with a `newswire_` prefix and `_total` suffix) on /metrics.
FETCHES = "fetches"  # label: kind (feed|page), result (ok|not_modified|http_4xx|...)
ENTRIES = "entries"  # label: outcome (new|fell_back|duplicate|rejected|failed)
EXTRACTIONS = "extractions"  # label: result (full|too_short|wall|failed)
ROBOTS = "robots_disallowed"  # label: kind (page|sitemap): fetches robots.txt ruled out
INTERNAL_ERRORS = "internal_errors"  # label: where (poll), kind (the exception's type)
CUTS = "field_cuts"  # label: field (body|link|image|...): a field cut to fit a stream entry
CAPPED = "server_hints_capped"  # label: hint (retry_after|max_age|ttl|host_hold)
PUSHES = "websub_pushes"  # label: outcome (fat|light|unsigned|bad_signature|too_large|...)
INTENTS = "websub_verifications"  # label: mode (subscribe|unsubscribe|denied), result
HUB_REQUESTS = "websub_requests"  # label: mode (subscribe|unsubscribe), result
SINK_EVENTS = "sink_events"  # label: sink (postgres|...), outcome (written|dead_letter|retried)
GIVEN_UP = "tasks_given_up"  # label: what (batch|entry): handed out too often (poison pages)
# Microseconds of CPU the extracting threads spent (integers, so HINCRBY adds them exactly);
# exported in seconds as newswire_extraction_cpu_seconds_total.
EXTRACT_CPU = "extraction_cpu_us"


@dataclass(frozen=True)
class Histogram:
    """A duration histogram kept as integers in the metrics hash: one field per bucket (counts
    not yet cumulative), a count, and a sum in microseconds, so HINCRBY adds them exactly."""

    name: str  # exported as newswire_<name>
    help: str
    buckets: tuple[float, ...]  # upper bounds in seconds, ascending; +Inf is implied
    labels: tuple[str, ...] = ()

    def fields(self, seconds: float, labels: dict[str, str]) -> list[tuple[str, int]]:
        i = bisect.bisect_left(self.buckets, seconds)
        le = "+Inf" if i == len(self.buckets) else repr(self.buckets[i])
        return [
            (field(f"{HISTOGRAM_PREFIX}{self.name}:bucket", {**labels, "le": le}), 1),
            (field(f"{HISTOGRAM_PREFIX}{self.name}:count", labels), 1),
            (field(f"{HISTOGRAM_PREFIX}{self.name}:sum_us", labels), round(seconds * 1e6)),
        ]


HISTOGRAM_PREFIX = "h:"
FETCH_SECONDS = Histogram(
    "fetch_duration_seconds",
    "Time to fetch one feed or page over HTTP (ok or failed), by kind (feed, page).",
    (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    ("kind",),
)
EXTRACT_SECONDS = Histogram(
    "extraction_duration_seconds",
    "Time to decode and extract one page (trafilatura and cleanup).",
    (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
PUBLISH_SECONDS = Histogram(
    "publish_duration_seconds",
    "Time to publish one article: identity checks, cluster vote and XADD in one script.",
    (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
LATENCY_SECONDS = Histogram(
    "entry_latency_seconds",
    "End to end: from the poll that saw an entry to its article on the stream.",
    (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0),
)
FRESHNESS_SECONDS = Histogram(
    "publication_latency_seconds",
    "From a story's own publication time (when plausible: within a week, not ahead) to its "
    "article on the stream: what polling adds to the news.",
    (5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0, 14400.0, 86400.0),
)
HISTOGRAMS = (FETCH_SECONDS, EXTRACT_SECONDS, PUBLISH_SECONDS, LATENCY_SECONDS, FRESHNESS_SECONDS)


def field(name: str, labels: dict[str, str]) -> str:
    """`name|k=v|k=v`, labels sorted: one hash field per counter series."""
    return "|".join([name, *(f"{k}={v}" for k, v in sorted(labels.items()))])


def parse_field(raw: str) -> tuple[str, dict[str, str]]:
    name, *pairs = raw.split("|")
    return name, dict(pair.split("=", 1) for pair in pairs)


class Metrics:
    """Buffers increments in the process and writes them with one pipelined round trip.

    With `max_delay` (workers: NEWSWIRE_METRICS_FLUSH_SECONDS), `flush` writes at most that
    often and a timer writes what is left: a busy worker then costs Redis one write a second
    instead of fifteen commands per article. `close` (or `flush(force=True)`) writes at once.
    A process killed outright loses at most `max_delay` seconds of counts.
    """

    def __init__(
        self, client: redis.Redis, prefix: str = default("key_prefix"), max_delay: float = 0.0
    ) -> None:
        self._redis = client
        self.key = keys.metrics(prefix)
        self.max_delay = max_delay
        self._pending: Counter[str] = Counter()
        self._lock = threading.Lock()  # prefetch threads count fetches too
        self._written = 0.0
        self._timer: threading.Timer | None = None

    def incr(self, name: str, **labels: str) -> None:
        self.add(name, 1, labels)

    def add(self, name: str, amount: int, labels: dict[str, str]) -> None:
        with self._lock:
            self._pending[field(name, labels)] += amount

    def observe(self, histogram: Histogram, seconds: float, **labels: str) -> None:
        with self._lock:
            for key, n in histogram.fields(max(seconds, 0.0), labels):
                self._pending[key] += n

    def flush(self, force: bool = False) -> None:
        if not force and self.max_delay > 0:
            wait = self._written + self.max_delay - time.monotonic()
            if wait > 0:
                with self._lock:
                    if self._timer is None and self._pending:
                        self._timer = threading.Timer(wait, self._flush_later)
                        self._timer.daemon = True
                        self._timer.start()
                return
        self._write()

    def close(self) -> None:
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        self._write()

    def _flush_later(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self._write()
        except BrokerError as exc:  # kept for the next flush; the outage is logged elsewhere
            log.debug("metrics flush deferred: %s", exc)

    def _write(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, Counter()
        self._written = time.monotonic()
        if not pending:
            return
        try:
            with redis_errors("metrics flush"):
                pipe = self._redis.pipeline(transaction=False)
                for key, n in pending.items():
                    pipe.hincrby(self.key, key, n)
                pipe.execute()
        except BrokerError:
            with self._lock:
                self._pending.update(pending)  # keep them for the next flush
            raise

    def read(self) -> dict[str, int]:
        with redis_errors("metrics read"):
            raw: Any = self._redis.hgetall(self.key)
        return {k.decode(): int(v) for k, v in raw.items()}


def fetch_result(exc: BaseException | None, status: int | None = None) -> str:
    """The result class of one fetch, a small fixed set fit for a metric label: the error's
    `kind` (chosen where it was raised), never its message."""
    if exc is None:
        return "not_modified" if status == 304 else "ok"
    if isinstance(exc, FetchError):
        return exc.kind.value
    return FetchKind.ERROR.value
