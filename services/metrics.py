"""Metrics: counters every process adds to in one Redis hash, read back by the monitor."""

import threading
from collections import Counter
from typing import Any

import redis

from services.broker import redis_errors
from services.errors import BrokerError, FetchError, FetchKind

# Counter names, as exported (with a `newswire_` prefix and `_total` suffix) on /metrics.
FETCHES = "fetches"  # label: kind (feed|page), result (ok|not_modified|http_4xx|...)
ENTRIES = "entries"  # label: outcome (new|fell_back|duplicate|rejected|failed)
EXTRACTIONS = "extractions"  # label: result (full|too_short|failed)
ROBOTS = "robots_disallowed"  # label: kind (page|sitemap): fetches robots.txt ruled out


def field(name: str, labels: dict[str, str]) -> str:
    """`name|k=v|k=v`, labels sorted: one hash field per counter series."""
    return "|".join([name, *(f"{k}={v}" for k, v in sorted(labels.items()))])


def parse_field(raw: str) -> tuple[str, dict[str, str]]:
    name, *pairs = raw.split("|")
    return name, dict(pair.split("=", 1) for pair in pairs)


class Metrics:
    """Buffers increments in the process and writes them with one pipelined round trip."""

    def __init__(self, client: redis.Redis, prefix: str = "newswire") -> None:
        self._redis = client
        self.key = f"{prefix}:metrics"
        self._pending: Counter[str] = Counter()
        self._lock = threading.Lock()  # prefetch threads count fetches too

    def incr(self, name: str, **labels: str) -> None:
        with self._lock:
            self._pending[field(name, labels)] += 1

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, Counter()
        if not pending:
            return
        try:
            pipe = self._redis.pipeline(transaction=False)
            for key, n in pending.items():
                pipe.hincrby(self.key, key, n)
            pipe.execute()
        except redis.RedisError as exc:
            with self._lock:
                self._pending.update(pending)  # keep them for the next flush
            raise BrokerError(f"Redis metrics flush failed: {exc}") from exc

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
