"""Politeness: per-host rate limits and Retry-After shared by all workers through Redis."""

import logging
from typing import Any
from urllib.parse import urlsplit

import redis
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.hints import cap
from newswire.services.identity.urls import origin
from newswire.services.roundtrip import RoundTrip
from newswire.services.scripts import register
from newswire.services.settings import default

log = logging.getLogger(__name__)

# The token bucket per host is services/lua/take_token.lua.


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def server_of(url: str) -> str:
    """`host:port` (default port by scheme): the server a Retry-After spoke for."""
    found = origin(url)
    return found.split("://", 1)[1] if found else host_of(url)


# How old a story is (seconds since its publication) -> the tokens it leaves in its host's
# bucket for fresher ones: the news of the last ten minutes is never queued behind a feed's
# backlog of yesterday.
RESERVES = ((600.0, 0), (3600.0, 1), (86400.0, 2))
OLDEST_RESERVE = 3


def reserve_for(published: float | None, now: float) -> int:
    """The reserve of a story published at `published` (Unix time; None: undated, taken as
    fresh, since nothing says otherwise)."""
    if published is None:
        return 0
    age = now - published
    return next((reserve for limit, reserve in RESERVES if age < limit), OLDEST_RESERVE)


class HostLimiter:
    """Shared by every worker: at most `rate` fetches per second per host (bursts of `burst`),
    and no fetch at all to a host that asked us to wait (429/503 with Retry-After)."""

    def __init__(
        self,
        client: redis.Redis,
        rate: float,
        burst: int,
        prefix: str = default("key_prefix"),
        max_hold: float = default("host_max_hold_seconds"),
    ):
        self._redis = client
        self._rate = rate
        self._burst = burst
        self._prefix = prefix
        self._max_hold = max_hold
        self._take = register(client, "take_token")

    def _keys(self, url: str) -> tuple[str, str, str]:
        """The host's bucket and crawl delay (politeness is per machine), and the hold of the
        one server (host and port) that sent a Retry-After."""
        bucket, _until, delay = keys.host_limits(self._prefix, host_of(url))
        return bucket, keys.host_limits(self._prefix, server_of(url))[1], delay

    def wait_seconds(self, url: str, reserve: int = 0) -> float:
        """0 when the caller may fetch now (a token is taken), else how long to wait first.
        With a `reserve` (see `reserve_for`), only while that many tokens stay for others."""
        with redis_errors("rate limit"):
            wait_ms: Any = self._take(
                keys=list(self._keys(url)), args=[self._rate, self._burst, reserve]
            )
        return int(wait_ms) / 1000

    def ask(self, trip: RoundTrip, url: str, reserve: int = 0) -> int:
        """`wait_seconds`, queued in `trip` with other stages' commands; read it with
        `waited` once the trip ran."""
        return trip.script(self._take, list(self._keys(url)), [self._rate, self._burst, reserve])

    @staticmethod
    def waited(trip: RoundTrip, index: int) -> float:
        return int(trip.reply(index)) / 1000

    def back_off(self, url: str, seconds: float) -> str | None:
        """Hold every fetch to this server for `seconds` (from Retry-After), at most
        `max_hold` (NEWSWIRE_HOST_MAX_HOLD_SECONDS); the note when the cap applied."""
        held = cap(seconds, self._max_hold, "Retry-After host hold")
        if held.note:
            log.info("%s: %s", server_of(url), held.note)
        _bucket, until, _delay = self._keys(url)
        with redis_errors("host backoff"):
            now_s, now_us = self._redis.time()  # type: ignore[misc]
            hold_ms = int(held.seconds * 1000)
            until_ms = int(now_s) * 1000 + int(now_us) // 1000 + hold_ms
            self._redis.set(until, until_ms, px=hold_ms + 1000)
        return held.note

    def set_crawl_delay(self, url: str, seconds: float, ttl: int) -> None:
        """Space fetches to this host at least `seconds` apart (robots.txt Crawl-delay), for
        `ttl` seconds; capped at a minute so that one file cannot stall a host's stories."""
        _bucket, _until, delay = self._keys(url)
        with redis_errors("crawl delay"):
            self._redis.set(delay, min(seconds, 60.0), ex=ttl)
