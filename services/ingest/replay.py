"""Replay: run extraction again over archived pages, without fetching, and publish a new
version of every story whose body comes out different."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from newswire.services.errors import ArchiveError
from newswire.services.identity.urls import clean_url
from newswire.services.ingest.archive import ArchivedPage, PageArchive
from newswire.services.ingest.outcomes import Outcome
from newswire.services.ingest.pipeline import Pipeline


@dataclass
class ReplaySummary:
    """What a replay did: pages looked at, and what became of them."""

    pages: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        parts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()))
        return f"replayed {self.pages} archived page(s): {parts or 'nothing to do'}"


def latest_pages(
    archive: PageArchive, *, feed: str | None = None, since: datetime | None = None
) -> list[ArchivedPage]:
    """The newest archived fetch of each story link, optionally of one feed and from a time."""
    newest: dict[str, ArchivedPage] = {}
    for record in archive.records(since):
        if feed is not None and record.entry.feed_url != feed:
            continue
        key = clean_url(record.entry.link or record.url)
        kept = newest.get(key)
        if kept is None or record.fetched_at >= kept.fetched_at:
            newest[key] = record
    return sorted(newest.values(), key=lambda r: r.fetched_at)


def replay(
    archive: PageArchive,
    pipeline: Pipeline,
    *,
    feed: str | None = None,
    since: datetime | None = None,
    story_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplaySummary:
    """Re-extract the newest archived page of each story (one feed's, from `since`, or the one
    story `story_id`) and publish `article.updated` where the body changed."""
    pages = latest_pages(archive, feed=feed, since=since)
    if story_id is not None:
        found = pipeline.publisher.lookup([clean_url(p.entry.link or p.url) for p in pages])
        pages = [p for p, k in zip(pages, found, strict=True) if k and k.story_id == story_id]
    summary = ReplaySummary(len(pages))
    for done, record in enumerate(pages, 1):
        try:
            content = archive.get(record)
        except ArchiveError:
            summary.counts["unreadable page"] += 1
            continue
        if content is None:
            summary.counts["expired"] += 1
        else:
            result = pipeline.replay(record.entry, record.url, record.content_type, content)
            if result.outcome is Outcome.UPDATED:
                summary.counts["updated"] += 1
            elif result.reason and result.reason.startswith("not published"):
                summary.counts["not published"] += 1
            elif result.outcome is Outcome.DUPLICATE:
                summary.counts["unchanged"] += 1
            else:
                summary.counts[result.outcome.value.replace("_", " ")] += 1
        if progress is not None:
            progress(done, len(pages))
    if archive.unreadable_lines:
        summary.counts["unreadable index line"] = archive.unreadable_lines
    return summary
