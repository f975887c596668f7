"""Poller: one poll of one registered feed: conditional GET, new entries handed on, state saved."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from newswire.schemas.feed import FeedEntry, FeedState, ParsedFeed
from newswire.services.errors import BrokerError, FetchError, PermanentFetch, TransientFetch
from newswire.services.fetch.politeness import HostLimiter
from newswire.services.ingest.pipeline import Pipeline
from newswire.services.metrics import INTERNAL_ERRORS
from newswire.services.polling.adaptive import Learning, Observation
from newswire.services.polling.pending import PendingLedger
from newswire.services.polling.registry import Registry, feed_id
from newswire.services.polling.schedule import BACKOFF_CAP, PollResult, Pushed, after_poll
from newswire.services.redact import redact_url
from newswire.services.sources.hubs import discover

log = logging.getLogger(__name__)


# Error kinds of a poll beside the fetch kinds (FetchKind): stable names for programs.
INTERNAL_ERROR = "internal_error"  # a bug or library failure on odd input, caught at the poll
TIME_LIMIT = "time_limit"  # the poll task ran out of time
REMOVED = "removed"  # the feed was removed while it was polled


@dataclass(frozen=True)
class PollReport:
    feed_id: str
    url: str
    status: str
    entries: int = 0  # entries in the feed
    enqueued: int = 0  # new entries handed on
    error: str | None = None
    error_kind: str | None = None  # the error's stable kind: match on this, not on `error`
    rejected: int = 0  # items the parser could not read, each recorded as rejected
    hub: str | None = None  # the WebSub hub the feed names (as of its last parsed body)
    topic: str | None = None


def record_failure(
    state: FeedState,
    *,
    registry: Registry,
    reason: str,
    kind: str,
    now: float,
    max_wait: float = BACKOFF_CAP,
) -> PollReport:
    """A poll that could not finish (its task ran out of time, say): recorded as the feed's
    failed poll with the reason, so it backs off like any other failure."""
    new_state = after_poll(
        state, PollResult(reason, error=reason, error_kind=kind, transient=True), now,
        max_wait=max_wait,
    )  # fmt: skip
    if registry.get(state.id) is None:
        return PollReport(state.id, state.url, reason, error="removed during the poll",
                          error_kind=REMOVED)  # fmt: skip
    registry.save(new_state, old_id=state.id)
    return PollReport(state.id, state.url, reason, error=reason, error_kind=kind)


def poll_feed(
    state: FeedState,
    *,
    pipeline: Pipeline,
    registry: Registry,
    limiter: HostLimiter,
    enqueue: Callable[[list[FeedEntry]], None],
    now: float,
    pending: PendingLedger | None = None,
    max_wait: float = BACKOFF_CAP,
    learning: Learning | None = None,
    pushed: Pushed | None = None,
) -> PollReport:
    """Poll `state`'s feed once and hand each unseen entry to `enqueue`.

    The new validators (ETag, Last-Modified) are saved only after every new entry has been
    handed on: if this process dies in between, the next poll is unconditional again, so no
    entry can hide behind a 304. Entries go into the `pending` ledger before they are handed
    on, so one the broker loses is enqueued again.

    Nothing escapes unrecorded: an item the parser could not read is rejected on its own (the
    feed's other items go on), and anything no rule expected is recorded on the feed as
    `internal error: <kind>`, counted and logged with its traceback, and the feed backs off
    like after any failed poll. Only a Redis outage (BrokerError) is raised: without Redis
    nothing can be recorded, and the caller retries the whole poll.
    """
    entries: list[FeedEntry] = []
    feed: ParsedFeed | None = None
    try:
        outcome, feed, entries = _poll(
            state, pipeline=pipeline, limiter=limiter, enqueue=enqueue, now=now, pending=pending
        )
    except BrokerError:
        raise
    except Exception as exc:
        kind = type(exc).__name__
        log.exception("poll of %s failed (internal error: %s)", redact_url(state.url), kind)
        pipeline.count(INTERNAL_ERRORS, where="poll", kind=kind)
        reason = f"internal error: {kind}"
        outcome = PollResult(reason, error=reason, error_kind=INTERNAL_ERROR, transient=True)
        feed = None
    new_state = after_poll(state, outcome, now, max_wait=max_wait, learning=learning, pushed=pushed)
    if feed is not None and feed.format:
        new_state = new_state.model_copy(update={"format": feed.format})
    if outcome.moved_to:
        new_state = new_state.model_copy(update={"id": feed_id(outcome.moved_to)})
    if registry.get(state.id) is None:
        # Removed while this poll ran: saving would bring the feed back.
        return PollReport(state.id, state.url, outcome.status, error="removed during the poll",
                          error_kind=REMOVED)  # fmt: skip
    registry.save(new_state, old_id=state.id)
    return PollReport(
        new_state.id,
        new_state.url,
        outcome.status,
        entries=len(feed.entries) if feed else 0,
        enqueued=len(entries),
        error=outcome.error,
        error_kind=outcome.error_kind,
        rejected=len(feed.skipped) if feed else 0,
        hub=new_state.hub,
        topic=new_state.topic,
    )


def _poll(
    state: FeedState,
    *,
    pipeline: Pipeline,
    limiter: HostLimiter,
    enqueue: Callable[[list[FeedEntry]], None],
    now: float,
    pending: PendingLedger | None,
) -> tuple[PollResult, ParsedFeed | None, list[FeedEntry]]:
    """Fetch, parse and hand on: how the poll went, the feed, the entries handed on."""
    try:
        result, feed = pipeline.fetch_feed(
            state.url, state.etag, state.last_modified, options=state.options,
            unchanged=state.body_hash,
        )  # fmt: skip
    except TransientFetch as exc:
        if exc.retry_after:
            limiter.back_off(state.url, exc.retry_after)
        outcome = PollResult(
            exc.reason, error=exc.reason, error_kind=exc.kind.value, transient=True,
            retry_after=exc.retry_after,
        )  # fmt: skip
        return outcome, None, []
    except PermanentFetch as exc:
        gone = exc.status == 410
        return (
            PollResult(exc.reason, error=exc.reason, error_kind=exc.kind.value, gone=gone),
            None,
            [],
        )
    except FetchError as exc:
        return PollResult(exc.reason, error=exc.reason, error_kind=exc.kind.value), None, []
    entries: list[FeedEntry] = []
    if feed is not None:
        pipeline.reject_skipped(feed)
        entries = pipeline.fresh(feed.entries, now)
    if pending is not None:
        pending.add(entries, now)
    if entries:
        enqueue(entries)
    outcome = PollResult(
        str(result.status),
        moved_to=result.moved_to,
        etag=result.headers.get("etag"),
        last_modified=result.headers.get("last-modified"),
        ttl_seconds=feed.ttl_seconds if feed else None,
        cache_control=result.headers.get("cache-control"),
        seen=observe(feed, len(entries)),
        body_hash=result.digest if result.status == 200 else None,
        parsed=feed is not None,
        hub=discover(result.headers, feed, result.url) if feed is not None else None,
        site_url=feed.site_url if feed is not None else None,
    )
    return outcome, feed, entries


def observe(feed: ParsedFeed | None, handed_on: int) -> Observation:
    """What a poll showed of the feed's publishing: its entries' dates, and how many of its
    entries were new (none for a 304 or an unchanged body)."""
    if feed is None:
        return Observation()
    times = [
        (e.published_at or e.updated_at).timestamp()  # type: ignore[union-attr]
        for e in feed.entries
        if e.published_at or e.updated_at
    ]
    return Observation(times, len(feed.entries), handed_on)
