"""Pipeline: the story path composed, from a feed or a page to one outcome per entry.

Read top to bottom, an entry goes: download (guard, known check, robots.txt, fetch) →
extract → decide (pure) → carry out (publish, revise or reject) → meter. The entry points
differ by what they start from: a poll of a feed (`ingest_feed`), one entry (`process_entry`),
a page someone else fetched (`from_archive`), an archived page extracted again (`replay`),
an entry out of tries (`fall_back`).
"""

import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import UTC, datetime

from newswire.schemas.feed import FeedEntry, FeedOptions, ParsedFeed
from newswire.services.delivery.publish import Publisher
from newswire.services.errors import BrokerError, FetchError, TransientFetch
from newswire.services.fetch.client import Fetcher, FetchResult
from newswire.services.fetch.robots import RobotsCache
from newswire.services.identity.revisions import RevisionPolicy
from newswire.services.identity.urls import clean_url
from newswire.services.ingest.archive import PageArchive
from newswire.services.ingest.carry import carry_out, reject
from newswire.services.ingest.downloader import Download, Downloader, Gate
from newswire.services.ingest.meter import Meter
from newswire.services.ingest.outcomes import EntryResult, FeedReport, Outcome
from newswire.services.ingest.prefetch import prefetched
from newswire.services.ingest.reader import FeedReader
from newswire.services.ingest.story import (
    Action,
    Decision,
    decide,
    extract_download,
)
from newswire.services.ingest.titlehabits import TitleHabits
from newswire.services.metrics import Metrics
from newswire.services.sources.kinds import SourceOptions

log = logging.getLogger(__name__)


class Pipeline:
    """The story path; the same object serves the CLI and the Celery tasks."""

    def __init__(
        self,
        fetcher: Fetcher,
        publisher: Publisher,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: Metrics | None = None,
        sources: SourceOptions | None = None,
        revisions: RevisionPolicy | None = None,
        robots: RobotsCache | None = None,
        robots_default: bool = True,
        archive: PageArchive | None = None,
        extractors: Executor | None = None,
        titles: TitleHabits | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.publisher = publisher
        self._clock = clock
        self.metrics = metrics
        self.meter = Meter(metrics)
        self.robots = robots
        self.revisions = revisions or RevisionPolicy()
        gate = Gate(fetcher, self.meter, robots, robots_default)
        self.reader = FeedReader(gate, sources or SourceOptions(), clock)
        self.downloader = Downloader(gate, publisher, self.revisions, clock, archive)
        # A process pool for one-shot ingest: pages are extracted on every core while this
        # thread publishes in feed order (workers leave it None: Celery runs the processes).
        self.extractors = extractors
        self.titles = titles

    # Entry points.

    def fetch_feed(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        options: FeedOptions | None = None,
        unchanged: str | None = None,
    ) -> tuple[FetchResult, ParsedFeed | None]:
        """A feed's response and entries (None when the server answered 304, or sent the
        body whose digest is `unchanged` again)."""
        try:
            return self.reader.read(url, etag, last_modified, options, unchanged)
        finally:
            self.meter.flush()

    def read_pushed(
        self, url: str, content: bytes, content_type: str | None, options: FeedOptions | None
    ) -> ParsedFeed:
        """A feed body a WebSub hub pushed (see FeedReader.parse_pushed)."""
        return self.reader.parse_pushed(url, content, content_type, options)

    def fresh(self, entries: list[FeedEntry], now: float) -> list[FeedEntry]:
        """The entries worth a task (see Downloader.fresh)."""
        return self.downloader.fresh(entries, now)

    def process_entry(
        self,
        entry: FeedEntry,
        *,
        final_attempt: bool = True,
        options: FeedOptions | None = None,
        seen_at: float | None = None,
        got: "Download | Future[Download] | None" = None,
    ) -> EntryResult:
        """Publish one entry exactly once: full page, or the feed's text with the reason.

        With `final_attempt=False` a transient fetch failure is raised for the caller to retry
        instead of falling back at once. `got` is the entry's Download when the caller fetched
        it already (or its future, when it is being fetched ahead). `seen_at` (epoch seconds)
        is when a poll saw the entry: the latency to the stream is measured from it.
        """
        try:
            if isinstance(got, Future):
                got = got.result()
            got = got or self.downloader.download(entry, options)
            if isinstance(got.error, TransientFetch) and not final_attempt:
                raise got.error
            result = self._story(entry, got)
            self.meter.entry(result, seen_at)
            return result
        finally:
            self.meter.flush()

    def process_entry_safely(
        self,
        entry: FeedEntry,
        got: "Download | Future[Download] | None" = None,
        seen_at: float | None = None,
    ) -> EntryResult:
        """`process_entry`, but a bug or library failure on odd input is recorded, not raised.
        BrokerError still propagates: without Redis nothing can be recorded at all."""
        try:
            return self.process_entry(entry, got=got, seen_at=seen_at)
        except BrokerError:
            raise
        except Exception as exc:
            log.exception("entry %s failed", entry.link)
            failed = EntryResult(Outcome.FAILED, entry.link, f"{type(exc).__name__}: {exc}")
            self.meter.entry(failed)
            self.meter.flush()
            return failed

    def from_archive(self, entry: FeedEntry, result: FetchResult) -> EntryResult:
        """A page someone else fetched (a WARC record): the same identity, dedup, extraction
        and publish as a fetched page, without fetching; odd input is recorded, not raised."""
        return self.process_entry_safely(entry, self.downloader.archived(entry, result))

    def replay(
        self, entry: FeedEntry, url: str, content_type: str | None, content: bytes
    ) -> EntryResult:
        """Extract an archived page again and publish `article.updated` when the story's body
        changed (same rules as a re-fetch); nothing is fetched. Stories never published (or
        without story state) are left alone: DUPLICATE with the reason."""
        got = self.downloader.replayed(entry, url, content_type, content)
        if got is None:
            return EntryResult(
                Outcome.DUPLICATE, entry.link or url, "not published: nothing to update"
            )
        try:
            replayed = self._story(entry, got)
            self.meter.entry(replayed)
            return replayed
        finally:
            self.meter.flush()

    def fall_back(self, entry: FeedEntry, reason: str) -> EntryResult:
        """Publish `entry` from the feed's own text, as after a transient failure that ran out
        of tries (e.g. its task ran out of time)."""
        aliases = [clean_url(entry.link)] if entry.link else []
        error = TransientFetch(entry.link or "", reason)
        return self.process_entry(entry, got=Download(aliases, error=error))

    def ingest_feed(
        self,
        url: str,
        progress: Callable[[int, int], None] | None = None,
        options: FeedOptions | None = None,
    ) -> FeedReport:
        """Poll one feed once and run every entry through; feed failures go in the report.

        Pages are fetched a few entries ahead in threads while this thread extracts, so the
        one-shot path is bound by extraction, not by waiting on servers; a slow page holds
        only its own slot.
        """
        report = FeedReport(url)
        try:
            result, feed = self.fetch_feed(url, options=options)
        except FetchError as exc:
            report.error, report.error_kind = exc.reason, exc.kind.value
            return report
        report.moved_to = result.moved_to
        if feed is None:
            report.not_modified = True
            return report
        report.salvaged, report.cuts = feed.salvaged, list(feed.cuts)
        for rejected in self.reject_skipped(feed):
            report.add(rejected)
        entries, seen_at = feed.entries, time.time()
        downloads = prefetched(self.downloader, entries, options, self.extractors)
        for done, (entry, got) in enumerate(zip(entries, downloads, strict=True), 1):
            report.add(self.process_entry_safely(entry, got, seen_at))
            if progress:
                progress(done, len(entries))
        return report

    def reject_skipped(self, feed: ParsedFeed) -> list[EntryResult]:
        """Record each item the parser could not read as rejected (once, by its link, guid
        or title), so it is an outcome beside the feed's good entries, never its end."""
        results = []
        for item in feed.skipped:
            name = item.link or item.guid or f"{feed.url}#item:{item.title or item.reason}"
            entry = FeedEntry(feed_url=feed.url, link=item.link, guid=item.guid, title=item.title)
            decision = Decision(Action.REJECT, name, reason=item.reason, kind=item.kind)
            result = reject(self.publisher, entry, decision, self._clock())
            self.meter.entry(result)
            results.append(result)
        if results:
            self.meter.flush()
        return results

    def count(self, name: str, **labels: str) -> None:
        """Add one to a counter now (flushed at once): for outcomes recorded outside a stage."""
        self.meter.count(name, **labels)
        self.meter.flush()

    # The story path.

    def _story(self, entry: FeedEntry, got: Download) -> EntryResult:
        extraction = extract_download(entry, got)
        habit = self.titles.consult(entry, extraction.page, got.result) if self.titles else None
        decision = decide(entry, got, extraction, self._clock(), habit)
        result = carry_out(self.publisher, entry, got, decision, self._clock())
        return extraction.onto(result)
