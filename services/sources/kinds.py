"""Sources: tell a fetched feed's kind from its bytes (RSS/Atom, JSON Feed, sitemap, gzip) and
parse it with the matching parser."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from newswire.schemas.feed import ParsedFeed
from newswire.services.settings import SourceSettings, default
from newswire.services.sources.feeds import FeedLimits, parse_feed
from newswire.services.sources.jsonfeed import looks_like_json_feed, parse_json_feed
from newswire.services.sources.sitemaps import GZIP_MAGIC, gunzip, parse_sitemap, sitemap_kind


@dataclass(frozen=True)
class SourceOptions:
    """What parsing needs besides the bytes: the caps, and the sitemap window."""

    limits: FeedLimits = field(default_factory=FeedLimits)
    sitemap_window: timedelta = field(
        default_factory=lambda: timedelta(days=default("sitemap_window_days"))
    )

    @classmethod
    def from_settings(cls, settings: SourceSettings) -> "SourceOptions":
        window = timedelta(days=settings.sitemap_window_days)
        return cls(FeedLimits.from_settings(settings), window)


def parse_source(
    content: bytes,
    url: str,
    content_type: str | None,
    *,
    now: datetime,
    options: SourceOptions | None = None,
) -> ParsedFeed:
    """Parse whatever the feed URL returned, by its content (the Content-Type is a hint that
    servers often get wrong). Raises PermanentFetch when it is none of the known kinds."""
    options = options or SourceOptions()
    if content.startswith(GZIP_MAGIC) and sitemap_kind(gunzip(content[:65536], url)[0]):
        return parse_sitemap(
            content, url, now=now, window=options.sitemap_window, limits=options.limits
        )
    if looks_like_json_feed(content):
        return parse_json_feed(content, url, options.limits)
    if sitemap_kind(content):
        return parse_sitemap(
            content, url, now=now, window=options.sitemap_window, limits=options.limits
        )
    return parse_feed(content, url, content_type, options.limits)
