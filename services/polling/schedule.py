"""Schedule: when each feed is next polled, claiming due feeds atomically, one active scheduler."""

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import redis
from newswire.schemas.feed import FeedState
from newswire.services.backoff import Backoff
from newswire.services.broker import redis_errors
from newswire.services.hints import cap, max_age
from newswire.services.polling.adaptive import Learning, Observation, learn
from newswire.services.scripts import register
from newswire.services.sources.hubs import HubLink
from redis.commands.core import Script

# A failing feed: a minute after the first error, doubling, about a day at most (never a
# permanent give-up by itself).
FEED_BACKOFF = Backoff(first=60.0, cap=86400.0)
BACKOFF_CAP = FEED_BACKOFF.cap
# ... and never more than this many of the feed's own intervals. A few unlucky retries, each
# landing in a site's hiccups (a CDN's 502s, a slow minute), took a feed read every 10 s to
# 10 minutes of waiting after its site was fine again (make soak). Scaled so, a busy feed is
# back within minutes of its site, and a server is asked at most an eighth as often as it
# is when well; a feed read hourly or less still rests up to the day.
ERROR_WAIT_INTERVALS = 8

# The scripts: services/lua/claim_due.lua, extend_claim.lua and lead.lua.


@dataclass(frozen=True)
class PollResult:
    """How a poll went, as the policy needs it. `status` is e.g. '200', '304', 'HTTP 429'."""

    status: str
    error: str | None = None
    error_kind: str | None = None  # the error's stable kind (a FetchKind value, ...)
    transient: bool = False
    gone: bool = False
    retry_after: float | None = None
    moved_to: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    ttl_seconds: int | None = None
    cache_control: str | None = None
    seen: Observation | None = None  # what the poll showed of the feed's publishing
    body_hash: str | None = None  # digest of the body read (a 200), None otherwise
    parsed: bool = False  # the body was read and parsed: what it names (hub, site) is current
    hub: HubLink | None = None  # the WebSub hub and topic the feed names
    site_url: str | None = None


@dataclass(frozen=True)
class Pushed:
    """A feed a hub pushes to us until `until` (its lease): polled only as a safety net,
    at least `interval` seconds apart, until the lease lapses."""

    until: float
    interval: int


def backoff_seconds(
    error_count: int, rng: Callable[[], float] = random.random, interval: float | None = None
) -> float:
    """The wait after a feed's `error_count`-th error in a row (FEED_BACKOFF), at most
    ERROR_WAIT_INTERVALS of the feed's `interval` (never below the first wait)."""
    backoff = FEED_BACKOFF
    if interval is not None:
        scaled = max(FEED_BACKOFF.first, ERROR_WAIT_INTERVALS * interval)
        backoff = replace(FEED_BACKOFF, cap=min(FEED_BACKOFF.cap, scaled))
    return backoff.delay(error_count, rng)


def after_poll(
    state: FeedState,
    result: PollResult,
    now: float,
    rng: Callable[[], float] = random.random,
    *,
    max_wait: float = BACKOFF_CAP,
    learning: Learning | None = None,
    pushed: Pushed | None = None,
) -> FeedState:
    """The feed's next state after a poll: validators, next due time, errors and backoff.

    What the server asks for (Retry-After, <ttl>, Cache-Control max-age) is capped at
    `max_wait` (NEWSWIRE_FEED_MAX_WAIT_SECONDS), the cap recorded in `note`: a server can
    slow its feed down, not switch it off.
    """
    update: dict[str, Any] = {"last_polled": now, "last_status": result.status, "note": None}
    if result.gone:
        update |= {
            "enabled": False,
            "disabled_reason": result.error,
            "last_error": result.error,
            "last_error_kind": result.error_kind,
        }
        return state.model_copy(update=update)
    if result.error is not None:
        errors = state.error_count + 1
        wait = backoff_seconds(errors, rng, state.interval)
        if result.retry_after is not None:
            asked = cap(result.retry_after, max_wait, "Retry-After")
            wait = max(asked.seconds, state.interval)
            update["note"] = asked.note
        update |= {
            "last_error": result.error,
            "last_error_kind": result.error_kind,
            "error_count": errors,
            "backoff_until": now + wait,
            "next_due": now + wait,
        }
        return state.model_copy(update=update)
    bounds = [b for b in (result.ttl_seconds, max_age(result.cache_control)) if b]
    min_interval = state.min_interval
    if bounds:
        asked = cap(max(bounds), max_wait, "<ttl>/max-age")
        min_interval, update["note"] = int(asked.seconds), asked.note
    interval = max(state.interval, min_interval or 0)
    pause: float = interval
    if state.adaptive and result.seen is not None:
        learned = learn(state, result.seen, now, learning or Learning())
        update |= {
            "interval": learned.interval,
            "expected_gap": learned.expected_gap,
            "newest_entry_at": learned.newest_entry_at,
            "learned_from": learned.why,
        }
        # Jitter (up to +20%, never below the interval: no feed is asked more often than the
        # minimum) keeps feeds learned alike from being asked in step.
        pause = max(learned.interval, min_interval or 0) * (1.0 + 0.2 * rng())
    if pushed is not None and pushed.until > now:
        # Pushed stories arrive by themselves; polling only catches what a hub dropped, and
        # resumes its own pace when the lease lapses.
        pause = max(pause, min(pushed.interval, pushed.until - now))
    if result.body_hash is not None:
        update["body_hash"] = result.body_hash
    if result.parsed:
        hub = result.hub
        update |= {"hub": hub and hub.hub, "topic": hub and hub.topic, "site_url": result.site_url}
    update |= {
        "last_error": None,
        "last_error_kind": None,
        "error_count": 0,
        "backoff_until": None,
        "min_interval": min_interval,
        "next_due": now + pause,
    }
    if result.status != "304":
        update |= {"etag": result.etag, "last_modified": result.last_modified}
    if result.moved_to:
        update["url"] = result.moved_to
    return state.model_copy(update=update)


def claim_due(script: Script, due_key: str, now: float, batch: int, until: float) -> list[bytes]:
    """claim_due.lua: up to `batch` members of `due_key` due by `now`, each leased to
    `until`. The feed schedule and the pending ledger's sweep both claim this way."""
    claimed: Any = script(keys=[due_key], args=[now, batch, until])
    return list(claimed)


class DueQueue:
    """The scheduler's side of the registry's due index: atomic claims, a leader lease."""

    def __init__(self, client: redis.Redis, due_key: str, leader_key: str) -> None:
        self._redis = client
        self._due_key = due_key
        self._leader_key = leader_key
        self._claim = register(client, "claim_due")
        self._lead = register(client, "lead")
        self._extend = register(client, "extend_claim")

    def claim(self, now: float, batch: int, lease_seconds: float) -> list[str]:
        """Take up to `batch` due feeds; none is due again for `lease_seconds`."""
        with redis_errors("claim"):
            ids = claim_due(self._claim, self._due_key, now, batch, now + lease_seconds)
        return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]

    def extend(self, ids: list[str], lease_end: float, new_end: float) -> int:
        """Push the claims that still end at `lease_end` to `new_end`; how many moved."""
        if not ids:
            return 0
        with redis_errors("claim extension"):
            return int(self._extend(keys=[self._due_key], args=[lease_end, new_end, *ids]))

    def lead(self, instance: str, lease_ms: int) -> bool:
        """Take or renew the leader lease; False while another live instance holds it."""
        with redis_errors("leader lease"):
            return bool(self._lead(keys=[self._leader_key], args=[instance, lease_ms]))

    def resign(self, instance: str) -> None:
        try:
            if self._redis.get(self._leader_key) == instance.encode():
                self._redis.delete(self._leader_key)
        except redis.RedisError:
            pass  # the lease expires by itself
