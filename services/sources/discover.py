"""Discovery: a site's feeds and sitemaps, found from its page's alternate links, common paths
and the sitemaps its robots.txt lists; each candidate fetched and parsed to tell its kind."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html
from newswire.schemas.feed import ParsedFeed
from newswire.services.errors import FetchError, PermanentFetch
from newswire.services.fetch.charset import decode_html
from newswire.services.fetch.client import Fetcher
from newswire.services.sources.kinds import SourceOptions, parse_source
from protego import Protego

FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml",
    "application/feed+json", "application/json", "text/xml", "application/xml",
})  # fmt: skip
COMMON_PATHS = (
    "/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/feed.json",
    "/feeds/all.atom.xml", "/news-sitemap.xml", "/sitemap_news.xml", "/sitemap.xml",
)  # fmt: skip
MAX_CANDIDATES = 30
THREADS = 4


@dataclass(frozen=True)
class Found:
    """One source found: its URL, kind (feedparser's version, json11, sitemap-news, ...),
    how many entries it has now (for an index: child sitemaps), its title, and how found."""

    url: str
    kind: str
    items: int
    title: str
    via: str


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def alternate_links(html: str, base: str) -> list[str]:
    """`<link rel="alternate">` hrefs of feed types in the page, resolved against it."""
    try:
        tree = lxml_html.fromstring(html)
    except Exception:  # lxml on hostile markup: no links rather than a crash
        return []
    found = []
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = link.get("href")
        if "alternate" in rel and kind in FEED_TYPES and href:
            found.append(urljoin(base, href.strip()))
    return found


def discover(
    url: str, fetcher: Fetcher, *, now: datetime, options: SourceOptions | None = None
) -> list[Found]:
    """The feeds and sitemaps of the site at `url`, each one checked by fetching it.

    When `url` itself is a feed or sitemap, it is the one result. Raises FetchError when the
    page itself cannot be had.
    """
    options = options or SourceOptions()
    page = fetcher.get(url)
    try:
        itself = parse_source(page.content, page.url, page.headers.get("content-type"),
                              now=now, options=options)  # fmt: skip
    except PermanentFetch:
        pass
    else:
        return [_found(page.url, itself.format, itself, "given")]
    origin = _origin(page.url)
    candidates: dict[str, str] = {}
    html = decode_html(page.content, page.headers.get("content-type"))
    for link in alternate_links(html, page.url):
        candidates.setdefault(link, "alternate link")
    for sitemap in _robots_sitemaps(origin, fetcher):
        candidates.setdefault(sitemap, "robots.txt")
    for path in COMMON_PATHS:
        candidates.setdefault(origin + path, "common path")
    checks = list(candidates.items())[:MAX_CANDIDATES]
    with ThreadPoolExecutor(THREADS, thread_name_prefix="discover") as pool:
        results = pool.map(lambda c: _check(c[0], c[1], fetcher, now, options), checks)
        found = [r for r in results if r is not None]
    # The same feed under two addresses (e.g. /feed redirecting to /rss.xml) is listed once.
    unique: dict[str, Found] = {}
    for item in found:
        unique.setdefault(item.url, item)
    return list(unique.values())


def _robots_sitemaps(origin: str, fetcher: Fetcher) -> list[str]:
    try:
        robots = fetcher.get(origin + "/robots.txt", accept="text/plain, */*;q=0.5")
    except FetchError:
        return []
    rules = Protego.parse(robots.content[: 500 * 1024].decode("utf-8", errors="replace"))
    return [urljoin(origin, s) for s in rules.sitemaps]


def _check(
    url: str, via: str, fetcher: Fetcher, now: datetime, options: SourceOptions
) -> Found | None:
    try:
        got = fetcher.get(url)
        feed = parse_source(got.content, got.url, got.headers.get("content-type"),
                            now=now, options=options)  # fmt: skip
    except FetchError:
        return None
    return _found(got.url, feed.format, feed, via)


def _found(url: str, kind: str, feed: ParsedFeed, via: str) -> Found:
    items = len(feed.sitemaps) if feed.sitemaps else len(feed.entries)
    return Found(url, kind or "feed", items, feed.title, via)
