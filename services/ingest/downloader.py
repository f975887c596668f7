"""Downloader: the I/O half of an entry (guard, known check, robots.txt, fetch, archive copy)."""

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newswire.schemas.feed import FeedEntry, FeedOptions
from newswire.services.delivery.publish import Publisher
from newswire.services.errors import (
    FetchError,
    FetchKind,
    PermanentFetch,
    RefusedURL,
    TransientFetch,
)
from newswire.services.extract.page import Extracted
from newswire.services.fetch.client import Fetcher, FetchResult, RequestOptions
from newswire.services.fetch.guard import check_url
from newswire.services.fetch.robots import RobotsCache
from newswire.services.identity.revisions import Known, RevisionPolicy
from newswire.services.identity.urls import clean_url
from newswire.services.ingest.archive import PageArchive
from newswire.services.ingest.meter import Meter
from newswire.services.ingest.outcomes import Spent
from newswire.services.metrics import ROBOTS
from newswire.services.redact import redact_url

log = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
# `download`'s default: look the link up (no answer given by the caller).
ASK = Known("")


@dataclass(frozen=True)
class Download:
    """The I/O half of an entry: its page, or why there is none. `aliases` are the cleaned
    link and final URL that identify the story before extraction."""

    aliases: list[str]
    result: FetchResult | None = None
    error: FetchError | None = None
    duplicate: bool = False
    known: Known | None = None  # set when this is a re-fetch of a published story
    extracted: "Future[tuple[Extracted, Spent]] | None" = None  # extraction running elsewhere


class Gate:
    """Every fetch of the story path: robots.txt asked first (where wanted), then the fetcher,
    each counted by the Meter."""

    def __init__(
        self,
        fetcher: Fetcher,
        meter: Meter,
        robots: RobotsCache | None = None,
        robots_default: bool = True,
    ) -> None:
        self.fetcher = fetcher
        self.meter = meter
        self.robots = robots
        self.robots_default = robots_default

    def get(self, kind: str, url: str, **options: Any) -> FetchResult:
        """Fetcher.get, counted and timed by `kind` (feed, page)."""
        started = time.perf_counter()
        try:
            result = self.fetcher.get(url, **options)
        except FetchError as exc:
            self.meter.fetched(kind, time.perf_counter() - started, error=exc)
            raise
        self.meter.fetched(kind, time.perf_counter() - started, status=result.status)
        return result

    def robots_refusal(self, url: str, kind: str, options: FeedOptions | None) -> FetchError | None:
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
        self.meter.count(ROBOTS, kind=kind)
        if verdict.transient:
            return TransientFetch(url, verdict.reason, kind=FetchKind.ROBOTS)
        return PermanentFetch(url, verdict.reason, kind=FetchKind.ROBOTS)


class Downloader:
    """Turns an entry into its Download; safe to run in threads."""

    def __init__(
        self,
        gate: Gate,
        publisher: Publisher,
        revisions: RevisionPolicy,
        clock: Callable[[], datetime],
        archive: PageArchive | None = None,
    ) -> None:
        self.gate = gate
        self.publisher = publisher
        self.revisions = revisions
        self._clock = clock
        self.archive = archive

    def download(
        self, entry: FeedEntry, options: FeedOptions | None = None, known: Known | None = ASK
    ) -> Download:
        """Guard, known check, robots.txt, fetch (unless the feed's options say to trust its
        own text), archive copy. `known`: the known check's answer, when the caller asked
        already (a batch asks for all its entries in one round trip)."""
        link = entry.link
        if link is None:
            return Download([])
        try:
            check_url(link)
        except RefusedURL as exc:
            return Download([], error=exc)
        aliases = [clean_url(link)]
        if known is ASK:
            known = self.publisher.lookup(aliases)[0]
        now = self._clock().timestamp()
        if known is not None and not self.revisions.wants_refetch(entry, known, now):
            return Download(aliases, duplicate=True)
        if options is not None and not options.fetch_pages:
            return Download(aliases, known=known)  # the feed's own text is the story
        refused = self.gate.robots_refusal(link, "page", options)
        if refused is not None:
            return Download(aliases, error=refused, known=known)
        request = RequestOptions.from_feed(entry.feed_url, options) if options else None
        try:
            result = self.gate.get(
                "page", link, accept=HTML_ACCEPT, allowed_types=HTML_TYPES, options=request
            )
        except FetchError as exc:
            return Download(aliases, error=exc, known=known)
        self._keep(entry, result)
        return Download([*aliases, clean_url(result.url)], result=result, known=known)

    def fresh(self, entries: list[FeedEntry], now: float) -> list[FeedEntry]:
        """The entries worth a task: links not known yet, and known stories whose entry says
        they changed (at most the revision policy's `per_poll` of those). One or two round
        trips for the whole feed, so an unchanged feed costs no tasks."""
        linked = [(e, clean_url(e.link)) for e in entries if e.link]
        known = self.publisher.lookup([link for _e, link in linked])
        dropped: set[int] = set()
        revisits = 0
        for (entry, _link), story in zip(linked, known, strict=True):
            if story is None:
                continue
            if revisits < self.revisions.per_poll and self.revisions.wants_refetch(
                entry, story, now
            ):
                revisits += 1
            else:
                dropped.add(id(entry))
        return [e for e in entries if id(e) not in dropped]

    def replayed(
        self, entry: FeedEntry, url: str, content_type: str | None, content: bytes
    ) -> Download | None:
        """An archived page as the Download of its published story; None when the story was
        never published (or has no story state): nothing to update."""
        aliases = [clean_url(entry.link or url), clean_url(url)]
        known = self.publisher.lookup(aliases[:1])[0]
        if known is None or known.version == 0:
            return None
        result = FetchResult(url, 200, {"content-type": content_type or "text/html"}, content)
        return Download(aliases, result=result, known=known)

    def archived(self, entry: FeedEntry, result: FetchResult) -> Download:
        """A page someone else fetched (a WARC record): the known check, no fetch."""
        aliases = [clean_url(entry.link or result.url)]
        if self.publisher.lookup(aliases)[0] is not None:
            return Download(aliases, duplicate=True)
        return Download(aliases, result=result)

    def _keep(self, entry: FeedEntry, result: FetchResult) -> None:
        """The raw page into the archive; a full disk costs the archive copy, not the story."""
        if self.archive is None:
            return
        try:
            self.archive.put(entry, result.url, result.headers.get("content-type"), result.content)
        except OSError as exc:
            log.warning("page not archived (%s): %s", redact_url(result.url), exc)
