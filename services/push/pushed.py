"""Pushed: a fat ping's content taken like a poll's body, within what the feed itself may ask."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from newswire.schemas.feed import FeedEntry, FeedState
from newswire.services.errors import FetchError
from newswire.services.identity.urls import same_site
from newswire.services.ingest.pipeline import Pipeline
from newswire.services.polling.pending import PendingLedger
from newswire.services.polling.registry import Registry
from newswire.services.redact import redact_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushReport:
    entries: int = 0  # entries in the pushed content
    enqueued: int = 0  # new ones handed on
    foreign: int = 0  # entries linking off the feed's own sites: left to a poll
    polled: bool = False  # the feed was made due at once instead
    error: str | None = None


def take_push(
    state: FeedState,
    content: bytes,
    content_type: str | None,
    *,
    pipeline: Pipeline,
    registry: Registry,
    pending: PendingLedger,
    enqueue: Callable[[list[FeedEntry]], None],
    now: float,
) -> PushReport:
    """Hand on the new entries of pushed content, as a poll of that content would.

    A hub holds the subscription's secret, but it is not the publisher: it may only tell us
    sooner what the feed says. So only entries linking to the feed's own sites (its URL, its
    topic, the site it names) are taken from the push; any other entry, or content that is no
    feed, makes the feed due at once instead, and the poll fetches the feed itself and only
    what it lists. Nothing of the push changes the feed's state (validators, schedule).
    """
    try:
        feed = pipeline.read_pushed(state.url, content, content_type, state.options)
    except FetchError as exc:
        log.warning("push for %s is no feed (%s): polling it", redact_url(state.url), exc.reason)
        return PushReport(polled=registry.poll_now(state.id, now), error=exc.reason)
    sites = [u for u in (state.url, state.topic, state.site_url) if u]
    ours = [e for e in feed.entries if not e.link or any(same_site(e.link, s) for s in sites)]
    foreign = len(feed.entries) - len(ours)
    entries = pipeline.fresh(ours, now)
    pending.add(entries, now)
    if entries:
        enqueue(entries)
    polled = bool(foreign) and registry.poll_now(state.id, now)
    return PushReport(len(feed.entries), len(entries), foreign, polled)
