"""Ingest: the stages composed: feed → entries → fetch → extract → normalize → publish once."""

import dataclasses
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import Any

from newswire.schemas.article import Article
from newswire.schemas.feed import FeedEntry, FeedOptions, ParsedFeed
from newswire.schemas.rejected import RejectedLink
from newswire.services.delivery.publish import Publisher
from newswire.services.errors import (
    BrokerError,
    FetchError,
    FetchKind,
    PermanentFetch,
    RefusedURL,
    TransientFetch,
)
from newswire.services.extract.normalize import build_article, extraction_is_useful
from newswire.services.extract.page import Extracted, ExtractionError, extract
from newswire.services.fetch.charset import decode_html
from newswire.services.fetch.client import Fetcher, FetchResult, RequestOptions
from newswire.services.fetch.guard import check_url
from newswire.services.fetch.robots import RobotsCache
from newswire.services.identity.revisions import Known, RevisionPolicy
from newswire.services.identity.urls import clean_url
from newswire.services.ingest.archive import PageArchive
from newswire.services.metrics import (
    CUTS,
    ENTRIES,
    EXTRACT_SECONDS,
    EXTRACTIONS,
    FETCH_SECONDS,
    FETCHES,
    LATENCY_SECONDS,
    PUBLISH_SECONDS,
    ROBOTS,
    Histogram,
    Metrics,
    fetch_result,
)
from newswire.services.redact import redact_url
from newswire.services.sources.kinds import SourceOptions, parse_source

log = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


# The one-shot path fetches this many entries ahead, with this many threads.
PREFETCH_THREADS = 4
PREFETCH_AHEAD = 8
# Below this many entries a feed is extracted in the calling process: starting a pool of
# extraction processes costs about a second.
PARALLEL_MIN_ENTRIES = 16


@dataclass(frozen=True)
class Download:
    """The I/O half of an entry: its page, or why there is none. `aliases` are the cleaned
    link and final URL that identify the story before extraction."""

    aliases: list[str]
    result: FetchResult | None = None
    error: FetchError | None = None
    duplicate: bool = False
    known: Known | None = None  # set when this is a re-fetch of a published story
    extracted: "Future[tuple[Extracted, float]] | None" = None  # extraction running elsewhere


class Outcome(StrEnum):
    """What became of one feed entry."""

    NEW = "new"  # published with the page's body
    FELL_BACK = "fell_back"  # published with the feed's own text
    UPDATED = "updated"  # a new version of a published story (article.updated)
    DUPLICATE = "duplicate"  # already published (or rejected) before, or unchanged
    REJECTED = "rejected"  # refused link: on the rejected stream, not published
    FAILED = "failed"  # nothing published; `reason` says why


ON_STREAM = frozenset({Outcome.NEW, Outcome.FELL_BACK, Outcome.UPDATED})


@dataclass(frozen=True)
class EntryResult:
    outcome: Outcome
    link: str | None
    reason: str | None = None
    article_id: str | None = None
    entry_id: str | None = None
    # Why the page could not be had, when it could not (a FetchKind value): for programs.
    kind: str | None = None


@dataclass
class FeedReport:
    """The summary of one feed poll: counts by outcome, and the feed-level error if any."""

    url: str
    counts: Counter[Outcome] = field(default_factory=Counter)
    error: str | None = None
    error_kind: str | None = None  # the feed error's stable kind (a FetchKind value)
    moved_to: str | None = None
    not_modified: bool = False
    salvaged: str | None = None
    cuts: list[str] = field(default_factory=list)
    results: list[EntryResult] = field(default_factory=list)

    def add(self, result: EntryResult) -> None:
        self.counts[result.outcome] += 1
        self.results.append(result)

    def line(self) -> str:
        """One human summary line, the same shape for every feed."""
        counts = ", ".join(f"{self.counts[o]} {o.value.replace('_', ' ')}" for o in Outcome)
        extra = ""
        if self.error:
            extra += f" — feed failed: {self.error}"
        if self.moved_to:
            extra += f" — moved to {self.moved_to}"
        if self.not_modified:
            extra += " — not modified"
        if self.salvaged:
            extra += " — malformed feed, entries salvaged"
        if self.cuts:
            extra += f" — {len(self.cuts)} cut(s) to the size limits"
        return f"{redact_url(self.url)}: {counts}{extra}"


def with_feed_options(feed: ParsedFeed, options: FeedOptions) -> ParsedFeed:
    """The feed's entries with its language hint (where they have none) and its tags."""
    if not options.language and not options.tags:
        return feed
    entries = [
        e.model_copy(update={
            "language": e.language or options.language,
            "tags": list(dict.fromkeys([*e.tags, *options.tags])),
        })
        for e in feed.entries
    ]  # fmt: skip
    return feed.model_copy(update={"entries": entries})


def looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith("<") or "<html" in head or "<body" in head or "<p" in head


def extract_page(result: FetchResult) -> tuple[Extracted, float]:
    """Decode and extract a fetched page, and the seconds it took; PermanentFetch when it is
    not HTML after all. A plain function, so a process pool can run it."""
    started = time.perf_counter()
    html = decode_html(result.content, result.headers.get("content-type"))
    if not looks_like_html(html):
        raise PermanentFetch(
            result.url, f"not HTML ({result.content_type or 'undeclared'})",
            kind=FetchKind.NOT_HTML,
        )  # fmt: skip
    return extract(html, result.url), time.perf_counter() - started


class Pipeline:
    """Runs entries through the stages; the same object serves the CLI and the Celery tasks."""

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
    ) -> None:
        self.fetcher = fetcher
        self.publisher = publisher
        self._clock = clock
        self.metrics = metrics
        self.sources = sources or SourceOptions()
        self.revisions = revisions or RevisionPolicy()
        self.robots = robots
        self.robots_default = robots_default
        self.archive = archive
        # A process pool for one-shot ingest: pages are extracted on every core while this
        # thread publishes in feed order (workers leave it None: Celery runs the processes).
        self.extractors = extractors

    def fetch_feed(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        options: FeedOptions | None = None,
    ) -> tuple[FetchResult, ParsedFeed | None]:
        """Fetch and parse a feed (RSS, Atom, JSON Feed or sitemap, told apart by content); the
        ParsedFeed is None when the server answered 304. A sitemap index's recent child
        sitemaps are fetched too, and their entries merged."""
        try:
            request = RequestOptions.from_feed(url, options) if options else None
            result = self._get(
                "feed", url, accept=FEED_ACCEPT, etag=etag, last_modified=last_modified,
                options=request,
            )  # fmt: skip
            if result.not_modified:
                return result, None
            feed = self._parse(result)
            if feed.sitemaps:
                feed = self._merge_sitemaps(feed, request, options)
            if result.url != url:
                # Entries name the feed as registered, not where a redirect led this time:
                # its options are looked up by that name.
                entries = [e.model_copy(update={"feed_url": url}) for e in feed.entries]
                feed = feed.model_copy(update={"entries": entries})
            if options is not None:
                feed = with_feed_options(feed, options)
        finally:
            if self.metrics is not None:
                self.metrics.flush()
        if feed.cuts:
            log.warning("feed %s cut to the size limits: %s", redact_url(url), "; ".join(feed.cuts))
        return result, feed

    def _parse(self, result: FetchResult) -> ParsedFeed:
        """Whatever kind of source the fetched bytes are; links resolve against the address
        after redirects."""
        content_type = result.headers.get("content-type")
        return parse_source(
            result.content, result.url, content_type, now=self._clock(), options=self.sources
        )

    def _merge_sitemaps(
        self, index: ParsedFeed, request: RequestOptions | None, options: FeedOptions | None
    ) -> ParsedFeed:
        """The entries of an index's child sitemaps (one level: an index inside an index is
        not followed), each failure recorded as a cut instead of failing the whole index."""
        entries = list(index.entries)
        cuts = list(index.cuts)
        limit = self.sources.limits.entries
        for child in index.sitemaps:
            if len(entries) >= limit:
                cuts.append(f"entries cut to {limit}: later child sitemaps not read")
                break
            refused = self._robots_refusal(child, "sitemap", options)
            if refused is not None:
                cuts.append(f"child sitemap {redact_url(child)}: {refused.reason}")
                continue
            try:
                part = self._parse(self._get("feed", child, accept=FEED_ACCEPT, options=request))
            except FetchError as exc:
                cuts.append(f"child sitemap {redact_url(child)}: {exc.reason}")
                continue
            if part.sitemaps:
                cuts.append(f"child sitemap {redact_url(child)} is an index itself: not followed")
            entries += part.entries[: limit - len(entries)]
            cuts += part.cuts
        return index.model_copy(update={"entries": entries, "cuts": cuts})

    def process_entry(
        self,
        entry: FeedEntry,
        *,
        final_attempt: bool = True,
        download: Callable[[], Download] | None = None,
        options: FeedOptions | None = None,
        seen_at: float | None = None,
    ) -> EntryResult:
        """Publish one entry exactly once: full page, or the feed's text with the reason.

        With `final_attempt=False` a transient fetch failure is raised for the caller to retry
        instead of falling back at once. `download` hands in the I/O half when the caller
        fetched ahead (see `ingest_feed`). `seen_at` (epoch seconds) is when a poll saw the
        entry: the end-to-end latency is measured from it.
        """
        try:
            result = self._process(
                entry, final_attempt, (download or partial(self.download, entry, options))()
            )
            self._count(ENTRIES, outcome=result.outcome.value)
            if seen_at is not None and result.outcome in ON_STREAM:
                self._observe(LATENCY_SECONDS, time.time() - seen_at)
            return result
        finally:
            if self.metrics is not None:
                self.metrics.flush()

    def download(self, entry: FeedEntry, options: FeedOptions | None = None) -> Download:
        """The I/O half of an entry: guard, dedup check, robots.txt, fetch (unless the feed's
        options say to trust its own text). Safe to run in threads."""
        link = entry.link
        if link is None:
            return Download([])
        try:
            check_url(link)
        except RefusedURL as exc:
            return Download([], error=exc)
        aliases = [clean_url(link)]
        known = self.publisher.lookup(aliases)[0]
        now = self._clock().timestamp()
        if known is not None and not self.revisions.wants_refetch(entry, known, now):
            return Download(aliases, duplicate=True)
        if options is not None and not options.fetch_pages:
            return Download(aliases, known=known)  # the feed's own text is the story
        refused = self._robots_refusal(link, "page", options)
        if refused is not None:
            return Download(aliases, error=refused, known=known)
        request = RequestOptions.from_feed(entry.feed_url, options) if options else None
        try:
            result = self._get(
                "page", link, accept=HTML_ACCEPT, allowed_types=HTML_TYPES, options=request
            )
        except FetchError as exc:
            return Download(aliases, error=exc, known=known)
        self._keep(entry, result)
        return Download([*aliases, clean_url(result.url)], result=result, known=known)

    def _keep(self, entry: FeedEntry, result: FetchResult) -> None:
        """The raw page into the archive; a full disk costs the archive copy, not the story."""
        if self.archive is None:
            return
        try:
            self.archive.put(entry, result.url, result.headers.get("content-type"), result.content)
        except OSError as exc:
            log.warning("page not archived (%s): %s", redact_url(result.url), exc)

    def from_archive(self, entry: FeedEntry, result: FetchResult) -> EntryResult:
        """A page someone else fetched (a WARC record): the same identity, dedup, extraction
        and publish as a fetched page, without fetching; odd input is recorded, not raised."""
        aliases = [clean_url(entry.link or result.url)]
        if self.publisher.lookup(aliases)[0] is not None:
            got = Download(aliases, duplicate=True)
        else:
            got = Download(aliases, result=result)
        return self.process_entry_safely(entry, download=lambda: got)

    def replay(
        self, entry: FeedEntry, url: str, content_type: str | None, content: bytes
    ) -> EntryResult:
        """Extract an archived page again and publish `article.updated` when the story's body
        changed (same rules as a re-fetch); nothing is fetched. Stories never published (or
        without story state) are left alone: DUPLICATE with the reason."""
        link = entry.link or url
        aliases = [clean_url(link), clean_url(url)]
        known = self.publisher.lookup(aliases[:1])[0]
        if known is None or known.version == 0:
            return EntryResult(Outcome.DUPLICATE, link, "not published: nothing to update")
        result = FetchResult(url, 200, {"content-type": content_type or "text/html"}, content)
        try:
            return self._process(entry, True, Download(aliases, result=result, known=known))
        finally:
            if self.metrics is not None:
                self.metrics.flush()

    def _process(self, entry: FeedEntry, final_attempt: bool, got: Download) -> EntryResult:
        link = entry.link
        if got.duplicate:
            return EntryResult(Outcome.DUPLICATE, link)
        if isinstance(got.error, RefusedURL):
            return self._reject(entry, link or "", got.error.reason, got.error.kind.value)
        if isinstance(got.error, TransientFetch) and not final_attempt:
            raise got.error
        page: Extracted | None = None
        error: str | None = None
        kind: str | None = None
        if link is None:
            error = "entry has no link"
        elif got.error is not None:
            error = f"page unavailable: {got.error.reason}"
            kind = got.error.kind.value
        elif got.result is not None:
            started = time.perf_counter()
            try:
                page, seconds = self._extracted(got)
                self._observe(EXTRACT_SECONDS, seconds)
            except PermanentFetch as exc:
                error = f"page unavailable: {exc.reason}"
                kind = exc.kind.value
            except ExtractionError as exc:
                error = f"extraction failed: {exc}"
                self._count(EXTRACTIONS, result="failed")
                self._observe(EXTRACT_SECONDS, time.perf_counter() - started)
            if page is not None and page.wall is not None:
                # The wall's text is not the story: the feed's own text is published instead.
                # A paywalled teaser is the story's own opening, though: kept (and flagged)
                # when the feed has no text to offer instead.
                error = page.wall.reason()
                self._count(EXTRACTIONS, result="wall")
                if page.wall.kind != "paywalled teaser" or entry.summary.strip():
                    page = None
            elif page is not None and not extraction_is_useful(page, entry):
                error = f"extraction too short ({len(page.body.split())} words)"
                page = None
                self._count(EXTRACTIONS, result="too_short")
            elif page is not None:
                self._count(EXTRACTIONS, result="full")
        has_text = bool(entry.title.strip() or entry.summary.strip())
        if page is None and link and got.known is None and not has_text:
            # Nothing to publish: no page, and a source with no text of its own (a sitemap
            # URL, typically). Recorded, and known, so it is not fetched again each poll.
            why = f"{error or 'no page fetched'}; the source has no text of its own"
            return self._reject(entry, link, why)
        article = build_article(
            entry,
            fetched_url=got.result.url if got.result is not None else None,
            page=page,
            error=error,
            now=self._clock(),
            aliases=got.aliases,
        )
        updated = entry.updated_at.timestamp() if entry.updated_at else 0.0
        if got.known is not None:
            return self._revise(article, got.known, updated, link)
        started = time.perf_counter()
        published = self.publisher.publish(article, got.aliases, updated)
        self._observe(PUBLISH_SECONDS, time.perf_counter() - started)
        self._count_cuts(published.article)
        if not published.new:
            reason = (
                f"same body as story {published.story_id}" if published.why == "alias" else None
            )
            return EntryResult(Outcome.DUPLICATE, link, reason, published.story_id or article.id)
        outcome = Outcome.NEW if article.extraction == "full" else Outcome.FELL_BACK
        return EntryResult(outcome, link, error, article.id, published.entry_id, kind)

    def _count_cuts(self, published: Article | None) -> None:
        """Count and log the cuts the publisher made to fit the entry size limits (it fits
        every article it writes, whoever calls it)."""
        if published is None or not published.truncated:
            return
        for cut in published.truncated:
            self._count(CUTS, field=cut.split(" ", 1)[0])
        log.warning("%s cut to the entry size limits: %s", redact_url(published.url or ""),
                    "; ".join(published.truncated))  # fmt: skip

    def _revise(
        self, article: Article, known: Known, updated: float, link: str | None
    ) -> EntryResult:
        """A re-fetched story: a new version when the page gave a full body that differs (or,
        for a feed whose own text is trusted, when that text differs)."""
        if article.extraction != "full" and article.extraction_error is not None:
            # A fallback to the feed's text is no new version of a page extracted before.
            reason = f"not re-extracted: {article.extraction_error}"
            return EntryResult(Outcome.DUPLICATE, link, reason, known.story_id)
        published = self.publisher.update(article, known, updated)
        self._count_cuts(published.article)
        if not published.new:
            return EntryResult(Outcome.DUPLICATE, link, published.why, known.story_id)
        version = published.article.version if published.article else known.version + 1
        return EntryResult(
            Outcome.UPDATED, link, f"version {version}", known.story_id, published.entry_id
        )

    def fall_back(self, entry: FeedEntry, reason: str) -> EntryResult:
        """Publish `entry` from the feed's own text, as after a transient failure that ran out
        of tries (e.g. its task ran out of time)."""
        aliases = [clean_url(entry.link)] if entry.link else []
        error = TransientFetch(entry.link or "", reason)
        return self.process_entry(entry, download=lambda: Download(aliases, error=error))

    def process_entry_safely(
        self,
        entry: FeedEntry,
        download: Callable[[], Download] | None = None,
        seen_at: float | None = None,
    ) -> EntryResult:
        """`process_entry`, but a bug or library failure on odd input is recorded, not raised.

        BrokerError still propagates: without Redis nothing can be recorded at all.
        """
        try:
            return self.process_entry(entry, download=download, seen_at=seen_at)
        except BrokerError:
            raise
        except Exception as exc:
            log.exception("entry %s failed", entry.link)
            self._count(ENTRIES, outcome=Outcome.FAILED.value)
            return EntryResult(Outcome.FAILED, entry.link, f"{type(exc).__name__}: {exc}")

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
        report.salvaged = feed.salvaged
        report.cuts = list(feed.cuts)
        for rejected in self.reject_skipped(feed):
            report.add(rejected)
        entries = feed.entries
        seen_at = time.time()
        parallel = self.extractors is not None and len(entries) >= PARALLEL_MIN_ENTRIES
        with ThreadPoolExecutor(PREFETCH_THREADS, thread_name_prefix="prefetch") as pool:
            ahead: deque[Future[Download]] = deque()
            for done, entry in enumerate(entries, 1):
                while len(ahead) < PREFETCH_AHEAD and done - 1 + len(ahead) < len(entries):
                    ahead.append(
                        pool.submit(
                            self._download_ahead, entries[done - 1 + len(ahead)], options, parallel
                        )
                    )
                report.add(self.process_entry_safely(entry, ahead.popleft().result, seen_at))
                if progress:
                    progress(done, len(entries))
        return report

    def _extracted(self, got: Download) -> tuple[Extracted, float]:
        """The extraction the pool ran, or one run here (also when the pool broke: a crashed
        extraction process fails its pages' futures, not the stories)."""
        assert got.result is not None
        if got.extracted is not None:
            try:
                return got.extracted.result()
            except BrokenExecutor:
                log.warning("extraction process lost; extracting %s here", got.result.url)
        return extract_page(got.result)

    def _download_ahead(
        self, entry: FeedEntry, options: FeedOptions | None, parallel: bool
    ) -> Download:
        """`download`, then the page's extraction handed to the process pool, if `parallel`."""
        got = self.download(entry, options)
        if parallel and self.extractors is not None and got.result is not None:
            try:
                future = self.extractors.submit(extract_page, got.result)
            except BrokenExecutor:
                return got  # extracted here instead
            got = dataclasses.replace(got, extracted=future)
        return got

    def _robots_refusal(
        self, url: str, kind: str, options: FeedOptions | None
    ) -> FetchError | None:
        """The error to record when robots.txt rules the fetch out (counted), else None. A
        feed's own `robots_txt` option overrides the setting either way. An unreachable
        robots.txt is a transient refusal: a worker retries the story later, as after a
        failed fetch, before it falls back to the feed's text."""
        wanted = self.robots_default
        if options is not None and options.robots_txt is not None:
            wanted = options.robots_txt
        if not wanted or self.robots is None:
            return None
        # The feed's proxy and User-Agent fetch robots.txt too; its credentials never do.
        request = None
        if options is not None and (options.proxy or options.user_agent):
            request = RequestOptions(url, user_agent=options.user_agent, proxy=options.proxy)
        verdict = self.robots.verdict(url, request)
        if verdict.allowed:
            return None
        self._count(ROBOTS, kind=kind)
        if verdict.transient:
            return TransientFetch(url, verdict.reason, kind=FetchKind.ROBOTS)
        return PermanentFetch(url, verdict.reason, kind=FetchKind.ROBOTS)

    def _get(self, kind: str, url: str, **options: Any) -> FetchResult:
        """Fetcher.get, counted by result class."""
        started = time.perf_counter()
        try:
            result = self.fetcher.get(url, **options)
        except FetchError as exc:
            self._count(FETCHES, kind=kind, result=fetch_result(exc))
            raise
        finally:
            self._observe(FETCH_SECONDS, time.perf_counter() - started, kind=kind)
        self._count(FETCHES, kind=kind, result=fetch_result(None, result.status))
        return result

    def _count(self, name: str, **labels: str) -> None:
        if self.metrics is not None:
            self.metrics.incr(name, **labels)

    def count(self, name: str, **labels: str) -> None:
        """Add one to a counter now (flushed at once): for outcomes recorded outside a stage."""
        self._count(name, **labels)
        if self.metrics is not None:
            self.metrics.flush()

    def reject_skipped(self, feed: ParsedFeed) -> list[EntryResult]:
        """Record each item the parser could not read as rejected (once, by its link, guid
        or title), so it is an outcome beside the feed's good entries, never its end."""
        results = []
        for item in feed.skipped:
            name = item.link or item.guid or f"{feed.url}#item:{item.title or item.reason}"
            entry = FeedEntry(feed_url=feed.url, link=item.link, guid=item.guid, title=item.title)
            result = self._reject(entry, name, item.reason, kind=item.kind)
            self._count(ENTRIES, outcome=result.outcome.value)
            results.append(result)
        if results and self.metrics is not None:
            self.metrics.flush()
        return results

    def _observe(self, histogram: Histogram, seconds: float, **labels: str) -> None:
        if self.metrics is not None:
            self.metrics.observe(histogram, seconds, **labels)

    def _reject(
        self, entry: FeedEntry, link: str, reason: str, kind: str | None = None
    ) -> EntryResult:
        rejected = RejectedLink(
            link=link,
            feed_url=redact_url(entry.feed_url),
            guid=entry.guid,
            title=entry.title,
            reason=reason,
            rejected_at=self._clock(),
        )
        recorded = self.publisher.reject(rejected, [link], kind=kind)
        outcome = Outcome.REJECTED if recorded.new else Outcome.DUPLICATE
        return EntryResult(outcome, link, reason, entry_id=recorded.entry_id, kind=kind)
