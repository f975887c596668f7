"""Feed reader: one feed fetched and parsed (RSS, Atom, JSON Feed or sitemap), with its options."""

import logging
from collections.abc import Callable
from datetime import datetime

from newswire.schemas.feed import FeedOptions, ParsedFeed
from newswire.services.errors import FetchError
from newswire.services.fetch.client import FetchResult, RequestOptions
from newswire.services.ingest.downloader import Gate
from newswire.services.redact import redact_url
from newswire.services.sources.kinds import SourceOptions, parse_source

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


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


class FeedReader:
    """Fetches and parses feeds through the Gate (robots.txt, counted fetches)."""

    def __init__(self, gate: Gate, sources: SourceOptions, clock: Callable[[], datetime]) -> None:
        self.gate = gate
        self.sources = sources
        self._clock = clock

    def read(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        options: FeedOptions | None = None,
        unchanged: str | None = None,
    ) -> tuple[FetchResult, ParsedFeed | None]:
        """The feed's response and its entries; None for the entries when the server answered
        304, or sent a body whose digest is `unchanged` (the last one read: many servers send
        no validators, and parsing costs more than the poll). A sitemap index's recent child
        sitemaps are fetched too, and their entries merged."""
        request = RequestOptions.from_feed(url, options) if options else None
        result = self.gate.get(
            "feed", url, accept=FEED_ACCEPT, etag=etag, last_modified=last_modified,
            options=request,
        )  # fmt: skip
        if result.not_modified or (unchanged is not None and result.digest == unchanged):
            return result, None
        feed = self._parse(result)
        if feed.sitemaps:
            feed = self._merge_sitemaps(feed, request, options)
        if result.url != url:
            # Entries name the feed as registered, not where a redirect led this time: its
            # options are looked up by that name.
            entries = [e.model_copy(update={"feed_url": url}) for e in feed.entries]
            feed = feed.model_copy(update={"entries": entries})
        if options is not None:
            feed = with_feed_options(feed, options)
        if feed.cuts:
            log.warning("feed %s cut to the size limits: %s", redact_url(url), "; ".join(feed.cuts))
        return result, feed

    def parse_pushed(
        self, url: str, content: bytes, content_type: str | None, options: FeedOptions | None
    ) -> ParsedFeed:
        """Content a WebSub hub pushed for the feed registered as `url`: parsed as that feed's
        body would be (no child sitemap is fetched), its entries named after `url`."""
        feed = parse_source(content, url, content_type, now=self._clock(), options=self.sources)
        return with_feed_options(feed, options) if options is not None else feed

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
            refused = self.gate.robots_refusal(child, "sitemap", options)
            if refused is not None:
                cuts.append(f"child sitemap {redact_url(child)}: {refused.reason}")
                continue
            try:
                fetched = self.gate.get("feed", child, accept=FEED_ACCEPT, options=request)
                part = self._parse(fetched)
            except FetchError as exc:
                cuts.append(f"child sitemap {redact_url(child)}: {exc.reason}")
                continue
            if part.sitemaps:
                cuts.append(f"child sitemap {redact_url(child)} is an index itself: not followed")
            entries += part.entries[: limit - len(entries)]
            cuts += part.cuts
        return index.model_copy(update={"entries": entries, "cuts": cuts})
