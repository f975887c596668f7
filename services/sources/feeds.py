"""Feeds: parse RSS 0.9x/1.0/2.0 and Atom bytes into a ParsedFeed, salvaging what feedparser can."""

import calendar
import codecs
import html
import io
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from lxml import html as lxml_html
from newswire.schemas.feed import FeedEntry, ParsedFeed, SkippedItem
from newswire.services.errors import FetchKind, PermanentFetch
from newswire.services.hints import ttl_seconds
from newswire.services.redact import redact_url, without_userinfo
from newswire.services.settings import SourceSettings, default

TAGS = re.compile(r"<[^>]+>")
SPACES = re.compile(r"[ \t\r\f\v]+")
BLANK_LINES = re.compile(r"\n\s*\n+")
MAILTO = re.compile(r"\s*\(?mailto:.*$")
IMAGE_TYPES = ("image/",)
ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
ROOT_START = re.compile(rb"<[A-Za-z_]")
UTF_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
            (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
MAX_CUTS_LISTED = 20
MALFORMED_ITEM = "malformed_item"
# A skipped item's record names it by at most this much of its link, guid and title.
SKIPPED_NAME_CHARS = 2048
CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")


def _valid_char_refs(content: bytes) -> bytes:
    """Character references to no character (beyond U+10FFFF, surrogates, NUL) become U+FFFD:
    feedparser's fallback parser raises on them instead of salvaging the feed."""

    def fix(match: re.Match[bytes]) -> bytes:
        code = int(match[1], 16) if match[1] else int(match[2])
        valid = 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
        return match[0] if valid else b"&#xFFFD;"

    return CHAR_REF.sub(fix, content) if b"&#" in content else content


@dataclass(frozen=True)
class FeedLimits:
    """Hard caps on what one feed may put into the pipeline (NEWSWIRE_FEED_MAX_* settings)."""

    entries: int = default("feed_max_entries")
    title_chars: int = default("feed_max_title_chars")
    summary_chars: int = default("feed_max_summary_chars")
    authors: int = default("feed_max_authors")
    tags: int = default("feed_max_tags")
    name_chars: int = 200  # one author or tag

    @classmethod
    def from_settings(cls, settings: SourceSettings) -> "FeedLimits":
        return cls(
            entries=settings.feed_max_entries,
            title_chars=settings.feed_max_title_chars,
            summary_chars=settings.feed_max_summary_chars,
            authors=settings.feed_max_authors,
            tags=settings.feed_max_tags,
        )


def without_entity_declarations(content: bytes) -> tuple[bytes, int]:
    """`content` with every `<!ENTITY ...>` declaration of its prolog cut out, and how many.

    Entities are never expanded: a declared entity referenced many times (billion laughs, or
    one big plain-text entity repeated) would otherwise be expanded by feedparser, whose
    fallback parser does so even where expat refuses. References stay as literal text.
    """
    for bom, codec in UTF_BOMS:
        if content.startswith(bom):
            text = content.decode(codec, errors="replace").encode("utf-8")
            cleaned, count = without_entity_declarations(text)
            return (cleaned.decode("utf-8").encode(codec) if count else content), count
    root = ROOT_START.search(content)
    head_end = root.start() if root else len(content)
    head = content[:head_end]
    if not ENTITY_DECLARATION.search(head):
        return content, 0
    out, position, count = bytearray(), 0, 0
    for match in ENTITY_DECLARATION.finditer(head):
        if match.start() < position:
            continue  # inside a declaration already cut
        out += head[position : match.start()]
        end, quote = match.end(), None
        while end < len(head):  # to the closing '>', skipping quoted values
            char = head[end : end + 1]
            if quote:
                quote = None if char == quote else quote
            elif char in (b'"', b"'"):
                quote = char
            elif char == b">":
                break
            end += 1
        position = end + 1
        count += 1
    out += head[position:]
    return bytes(out) + content[head_end:], count


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, paragraphs kept as blank-line separated blocks."""
    if not fragment or "<" not in fragment:
        return _tidy(html.unescape(fragment or ""))
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except Exception:
        return _tidy(html.unescape(TAGS.sub(" ", fragment)))
    for block in root.iter("p", "br", "div", "li", "h1", "h2", "h3", "h4", "blockquote"):
        block.tail = "\n\n" + (block.tail or "")
    return _tidy(root.text_content())


def _tidy(text: str) -> str:
    """Collapse runs of spaces; keep paragraph breaks (blank lines), drop line-wrap breaks."""
    paragraphs = BLANK_LINES.split(text.strip())
    return "\n\n".join(
        SPACES.sub(" ", p.replace("\n", " ")).strip() for p in paragraphs if p.strip()
    )


def to_utc(parsed: time.struct_time | None) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_times; None when absent or nonsense."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def absolute_link(link: str | None, base: str) -> str | None:
    """`link` resolved against `base`; None for no link, or one the URL parser refuses (a
    bracketed host that is no IPv6 address: `http://[zz]/`)."""
    if not link:
        return None
    link = link.strip()
    try:
        return urljoin(base, link) if link else None
    except ValueError:
        return None


def public_link(link: str | None) -> str | None:
    """Credentials in a story link (or a URL-shaped guid) are a stranger's words: neither
    sent nor published. None for a link the URL parser refuses."""
    try:
        return without_userinfo(link) if link and "://" in link else link
    except ValueError:
        return None


MAX_HUBS = 4  # hubs taken from one feed: a feed naming hundreds asks for nothing but work


def hub_links(feed: Any, base: str) -> tuple[list[str], str | None]:
    """The WebSub hubs a feed names (its rel="hub" links) and its own address (rel="self")."""
    hubs: list[str] = []
    own = None
    for link in feed.get("links", []) or []:
        href = public_link(absolute_link(str(link.get("href") or ""), base))
        rel = str(link.get("rel") or "").lower()
        if href and rel == "hub" and href not in hubs and len(hubs) < MAX_HUBS:
            hubs.append(href)
        elif href and rel == "self" and own is None:
            own = href
    return hubs, own


def _entry_link(entry: Any, base: str) -> str | None:
    """The story's link: `link`, else an alternate link, else a URL-shaped permalink guid."""
    if entry.get("link"):
        return absolute_link(entry["link"], base)
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return absolute_link(link["href"], base)
    guid = entry.get("id") or ""
    if guid.startswith(("http://", "https://")) and entry.get("guidislink", True):
        return guid
    return None


def _entry_image(entry: Any, base: str) -> str | None:
    for media in entry.get("media_content", []) + entry.get("media_thumbnail", []):
        if media.get("url") and media.get("medium", "image") == "image":
            return absolute_link(media["url"], base)
    for link in entry.get("enclosures", []) + entry.get("links", []):
        if link.get("type", "").startswith(IMAGE_TYPES) and link.get("href"):
            return absolute_link(link["href"], base)
    return None


def _entry_summary(entry: Any) -> str:
    """The fullest text the feed gives: content:encoded / atom:content beats the summary."""
    contents = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
    best = max(contents, key=len) if contents else ""
    summary = entry.get("summary", "") or ""
    return html_to_text(best if len(best) > len(summary) else summary)


def _authors(entry: Any) -> list[str]:
    names = [a.get("name", "") for a in entry.get("authors", []) if a.get("name")]
    if not names and entry.get("author"):
        names = [entry["author"]]
    # "Name (mailto:x@y)" leaves a dangling "(mailto:" in feedparser's name field.
    cleaned = (MAILTO.sub("", html_to_text(n)).strip() for n in names)
    return list(dict.fromkeys(n for n in cleaned if n))


@dataclass
class Caps:
    """Cuts entry fields to the limits and records each cut, naming the entry (any format)."""

    limits: FeedLimits
    cuts: list[str] = field(default_factory=list)

    def text(self, value: str, limit: int, what: str, entry: str) -> str:
        if len(value) <= limit:
            return value
        self.cuts.append(
            f"{what} of {_describe(entry)} cut from {len(value)} to {limit} characters"
        )
        return value[:limit]

    def names(self, values: list[str], limit: int, what: str, entry: str) -> list[str]:
        kept = [
            self.text(v, self.limits.name_chars, f"a {what[:-1]}", entry) for v in values[:limit]
        ]
        if len(values) > limit:
            self.cuts.append(f"{what} of {_describe(entry)} cut from {len(values)} to {limit}")
        return kept

    def listed(self) -> list[str]:
        """The cuts, the first MAX_CUTS_LISTED of them named and the rest counted."""
        if len(self.cuts) <= MAX_CUTS_LISTED:
            return list(self.cuts)
        return [*self.cuts[:MAX_CUTS_LISTED], f"and {len(self.cuts) - MAX_CUTS_LISTED} more cuts"]


def _clip(value: object, limit: int) -> str | None:
    return value.strip()[:limit] or None if isinstance(value, str) else None


def skipped_item(link: object, guid: object, title: object, exc: Exception) -> SkippedItem:
    """The record of one item that could not become an entry: named by what it gave, with the
    failure's type and first line (never the whole item)."""
    detail = (str(exc).splitlines() or [""])[0][:200]
    return SkippedItem(
        link=_clip(link, SKIPPED_NAME_CHARS),
        guid=_clip(guid, SKIPPED_NAME_CHARS),
        title=_clip(title, 200) or "",
        reason=f"malformed item ({type(exc).__name__}{': ' + detail if detail else ''})",
        kind=MALFORMED_ITEM,
    )


def _entry(entry: Any, feed_url: str, feed_language: str | None, caps: Caps) -> FeedEntry:
    base = feed_url
    limits = caps.limits
    name = str(entry.get("link") or entry.get("id") or "an entry without link")
    tags = list(dict.fromkeys(t["term"].strip() for t in entry.get("tags", []) if t.get("term")))
    return FeedEntry(
        feed_url=feed_url,
        link=public_link(_entry_link(entry, base)),
        guid=public_link(entry.get("id") or None),
        title=caps.text(
            html_to_text(entry.get("title", "") or ""), limits.title_chars, "title", name
        ),
        summary=caps.text(_entry_summary(entry), limits.summary_chars, "summary", name),
        authors=caps.names(_authors(entry), limits.authors, "authors", name),
        published_at=to_utc(_raw(entry, "published_parsed"))
        or to_utc(_raw(entry, "created_parsed")),
        updated_at=to_utc(_raw(entry, "updated_parsed")),
        tags=caps.names(tags, limits.tags, "tags", name),
        image=_entry_image(entry, base),
        language=feed_language,
    )


def _describe(name: str) -> str:
    """An entry named in a cut record: its link or id, shortened."""
    return redact_url(name[:200])


def _raw(entry: Any, key: str) -> Any:
    """The value as parsed: FeedParserDict.get maps updated<->published with a warning."""
    return dict.get(entry, key)


def parse_feed(
    content: bytes,
    feed_url: str,
    content_type: str | None = None,
    limits: FeedLimits | None = None,
) -> ParsedFeed:
    """Parse feed bytes fetched from `feed_url`; relative links resolve against xml:base/URL.

    The bytes are wrapped in a stream: handed a string, feedparser may open it as a URL or a
    file itself. Entity declarations are cut out first (never expanded), and every entry field
    is capped to `limits`, each cut recorded. Raises PermanentFetch when nothing resembling a
    feed could be salvaged.
    """
    limits = limits or FeedLimits()
    headers = {"content-location": feed_url}
    if content_type:
        headers["content-type"] = content_type
    content, declared = without_entity_declarations(content)
    try:
        parsed = feedparser.parse(
            io.BytesIO(_valid_char_refs(content)), response_headers=headers, sanitize_html=False
        )
    except Exception as failure:  # feedparser on hostile bytes: recorded, never a crash
        reason = f"not a feed (parser failed: {type(failure).__name__})"
        raise PermanentFetch(feed_url, reason, kind=FetchKind.NOT_A_FEED) from failure
    salvaged = None
    if declared:
        salvaged = f"{declared} entity declaration(s) ignored: entities are never expanded"
    elif parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        salvaged = f"{type(exc).__name__}: {exc}"
    if not parsed.get("version") and not parsed.entries:
        reason = f"not a feed ({salvaged})" if salvaged else "not a feed (no RSS or Atom found)"
        raise PermanentFetch(feed_url, reason, kind=FetchKind.NOT_A_FEED)
    feed = parsed.feed
    language = (feed.get("language") or "").split("-")[0].lower() or None
    caps = Caps(limits)
    hubs, own = hub_links(feed, feed_url)
    if len(parsed.entries) > limits.entries:
        caps.cuts.append(f"entries cut from {len(parsed.entries)} to {limits.entries}")
    entries: list[FeedEntry] = []
    skipped: list[SkippedItem] = []
    for raw in parsed.entries[: limits.entries]:
        try:
            entries.append(_entry(raw, feed_url, language, caps))
        except Exception as exc:  # one odd item is its own outcome, never the feed's end
            skipped.append(skipped_item(raw.get("link"), raw.get("id"), raw.get("title"), exc))
    return ParsedFeed(
        url=feed_url,
        title=html_to_text(feed.get("title", "") or ""),
        site_url=absolute_link(feed.get("link"), feed_url),
        language=language,
        format=parsed.get("version") or "",
        ttl_seconds=ttl_seconds(feed.get("ttl")),
        salvaged=salvaged,
        cuts=caps.listed(),
        entries=entries,
        skipped=skipped,
        hubs=hubs,
        self_url=own,
    )
