"""Carry out: a decision done, the story published, revised or recorded as rejected."""

import time
from datetime import datetime

from newswire.schemas.feed import FeedEntry
from newswire.schemas.rejected import RejectedLink
from newswire.services.delivery.publish import Publisher
from newswire.services.ingest.downloader import Download
from newswire.services.ingest.outcomes import EntryResult, Outcome
from newswire.services.ingest.story import Action, Decision
from newswire.services.redact import redact_url


def carry_out(
    publisher: Publisher, entry: FeedEntry, got: Download, decision: Decision, now: datetime
) -> EntryResult:
    """The decision done: published, revised or recorded as rejected."""
    updated = entry.updated_at.timestamp() if entry.updated_at else 0.0
    link, article = decision.link, decision.article
    if decision.action is Action.REJECT:
        return reject(publisher, entry, decision, now)
    if decision.action is Action.DUPLICATE or article is None:
        return EntryResult(Outcome.DUPLICATE, link, decision.reason, decision.story_id)
    if decision.action is Action.REVISE and got.known is not None:
        revised = publisher.update(article, got.known, updated)
        cuts = tuple(revised.article.truncated) if revised.article else ()
        if not revised.new:
            return EntryResult(Outcome.DUPLICATE, link, revised.why, decision.story_id,
                               cuts=cuts)  # fmt: skip
        version = revised.article.version if revised.article else got.known.version + 1
        return EntryResult(Outcome.UPDATED, link, f"version {version}", decision.story_id,
                           revised.entry_id, cuts=cuts)  # fmt: skip
    started = time.perf_counter()
    published = publisher.publish(article, got.aliases, updated)
    took = time.perf_counter() - started
    cuts = tuple(published.article.truncated) if published.article else ()
    if not published.new:
        same = f"same body as story {published.story_id}" if published.why == "alias" else None
        return EntryResult(Outcome.DUPLICATE, link, same, published.story_id or article.id,
                           publish_seconds=took, cuts=cuts)  # fmt: skip
    outcome = Outcome.NEW if article.extraction == "full" else Outcome.FELL_BACK
    when = article.published_at.timestamp() if article.published_at else None
    return EntryResult(
        outcome, link, decision.reason, article.id, published.entry_id, decision.kind,
        publish_seconds=took, cuts=cuts, published_at=when,
    )  # fmt: skip


def reject(
    publisher: Publisher, entry: FeedEntry, decision: Decision, now: datetime
) -> EntryResult:
    link, reason = decision.link or "", decision.reason or ""
    rejected = RejectedLink(
        link=link,
        feed_url=redact_url(entry.feed_url),
        guid=entry.guid,
        title=entry.title,
        reason=reason,
        rejected_at=now,
    )
    recorded = publisher.reject(rejected, [link], kind=decision.kind)
    outcome = Outcome.REJECTED if recorded.new else Outcome.DUPLICATE
    return EntryResult(outcome, link, reason, entry_id=recorded.entry_id, kind=decision.kind)
