"""Sitemaps as sources: Google News sitemaps, plain sitemaps and sitemap indexes (gzip too),
streamed in bounded memory; only URLs newer than the window become entries."""

import re
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO

from lxml import etree
from newswire.schemas.feed import FeedEntry, ParsedFeed, SkippedItem
from newswire.services.errors import FetchKind, PermanentFetch
from newswire.services.sources.feeds import Caps, FeedLimits, public_link, skipped_item

GZIP_MAGIC = b"\x1f\x8b"
# The sitemaps protocol caps a sitemap at 50 MB uncompressed and 50,000 URLs.
MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_URLS = 50_000
MAX_CHILD_SITEMAPS = 200
ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(urlset|sitemapindex)[\s>]")
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
IMAGE = "{http://www.google.com/schemas/sitemap-image/1.1}"


def gunzip(content: bytes, url: str, limit: int = MAX_UNCOMPRESSED) -> tuple[bytes, str | None]:
    """The decompressed bytes (at most `limit`) and, when the stream was cut short or too
    long, what happened: a truncated file still gives what it holds."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(content, limit)
    except zlib.error as exc:
        raise PermanentFetch(
            url, f"not a feed (broken gzip: {exc})", kind=FetchKind.NOT_A_FEED
        ) from None
    if inflater.unconsumed_tail:
        return out, f"cut at {limit // (1024 * 1024)} MiB uncompressed"
    if not inflater.eof:
        return out, "truncated gzip: entries up to the cut were read"
    return out, None


def sitemap_kind(content: bytes) -> str | None:
    """'urlset' or 'sitemapindex' when the bytes are a sitemap, else None."""
    found = ROOT.search(content[:4096])
    return found.group(1).decode() if found else None


def _date(text: str | None) -> datetime | None:
    """A W3C datetime (YYYY-MM-DD or full, zone optional: UTC assumed) in UTC."""
    if not text or not text.strip():
        return None
    value = text.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _elements(content: bytes, tag: str) -> Iterator[etree._Element]:
    """Each `<url>`/`<sitemap>` element, cleared once handled: memory stays flat whatever the
    sitemap's size. No DTD, no entities, no network."""
    events = etree.iterparse(
        BytesIO(content), events=("end",), tag=f"{{*}}{tag}", resolve_entities=False,
        no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
    )  # fmt: skip
    for _event, element in events:
        yield element
        element.clear(keep_tail=False)
        parent = element.getparent()
        while parent is not None and element.getprevious() is not None:
            del parent[0]


def _child(element: etree._Element, name: str) -> str | None:
    suffix = "}" + name
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and (tag == name or tag.endswith(suffix)):
            return (child.text or "").strip() or None
    return None


def parse_sitemap(
    content: bytes,
    url: str,
    *,
    now: datetime,
    window: timedelta,
    limits: FeedLimits | None = None,
) -> ParsedFeed:
    """A sitemap's recent URLs as entries, or a sitemap index's recent child sitemaps in
    `sitemaps`. Gzip is detected by its magic bytes; a broken tail keeps what came before."""
    limits = limits or FeedLimits()
    salvaged = None
    if content.startswith(GZIP_MAGIC):
        content, salvaged = gunzip(content, url)
    kind = sitemap_kind(content)
    if kind is None:
        raise PermanentFetch(
            url, "not a feed (no RSS, Atom, JSON Feed or sitemap found)", kind=FetchKind.NOT_A_FEED
        )
    since = now - window
    caps = Caps(limits)
    entries: list[FeedEntry] = []
    children: list[str] = []
    skipped: list[SkippedItem] = []
    undated = old = seen = 0
    news = False
    try:
        for element in _elements(content, "url" if kind == "urlset" else "sitemap"):
            seen += 1
            if seen > MAX_URLS:
                caps.cuts.append(f"stopped after {MAX_URLS} URLs (the protocol's limit)")
                break
            loc = public_link(_child(element, "loc"))
            if loc is None:
                continue
            lastmod = _date(_child(element, "lastmod"))
            if kind == "sitemapindex":
                if lastmod is None or lastmod >= since:
                    children.append(loc)
                continue
            entry = _url_entry_or_skip(
                element, loc=loc, lastmod=lastmod, sitemap_url=url, caps=caps, skipped=skipped
            )
            if entry is None:
                continue
            news = news or entry.title != ""
            when = entry.published_at or entry.updated_at
            if when is None:
                undated += 1
            elif when < since:
                old += 1
            elif len(entries) < limits.entries:
                entries.append(entry)
            else:
                caps.cuts.append(f"entries cut to {limits.entries}")
                break
    except etree.XMLSyntaxError as exc:
        salvaged = salvaged or f"malformed sitemap ({exc}): entries up to the error were read"
    if len(children) > MAX_CHILD_SITEMAPS:
        caps.cuts.append(f"child sitemaps cut from {len(children)} to {MAX_CHILD_SITEMAPS}")
        children = children[:MAX_CHILD_SITEMAPS]
    if undated or old:
        caps.cuts.append(
            f"{old} URL(s) older than the window and {undated} without a date left out"
        )
    return ParsedFeed(
        url=url,
        format="sitemapindex"
        if kind == "sitemapindex"
        else ("sitemap-news" if news else "sitemap"),
        salvaged=salvaged,
        cuts=caps.listed(),
        entries=entries,
        skipped=skipped,
        sitemaps=children,
    )


def _url_entry_or_skip(
    element: etree._Element,
    *,
    loc: str,
    lastmod: datetime | None,
    sitemap_url: str,
    caps: Caps,
    skipped: list[SkippedItem],
) -> FeedEntry | None:
    """The `<url>`'s entry, or None with the reason in `skipped`: one odd `<url>` is its own
    outcome, never the sitemap's end."""
    try:
        return _url_entry(element, loc, lastmod, sitemap_url, caps)
    except Exception as exc:
        skipped.append(skipped_item(loc, loc, "", exc))
        return None


def _url_entry(
    element: etree._Element, loc: str, lastmod: datetime | None, sitemap_url: str, caps: Caps
) -> FeedEntry:
    title, published, language, image = "", None, None, None
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag == f"{NEWS}news":
            title = _child(child, "title") or ""
            published = _date(_child(child, "publication_date"))
            for sub in child:
                if isinstance(sub.tag, str) and etree.QName(sub).localname == "publication":
                    language = (_child(sub, "language") or "").split("-")[0].lower() or None
        elif child.tag == f"{IMAGE}image" and image is None:
            image = public_link(_child(child, "loc"))
    return FeedEntry(
        feed_url=sitemap_url,
        link=loc,
        guid=loc,
        title=caps.text(title, caps.limits.title_chars, "title", loc),
        published_at=published,
        updated_at=lastmod,
        image=image,
        language=language,
    )
