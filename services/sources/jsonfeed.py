"""JSON Feed 1.0/1.1: parse the bytes into the same ParsedFeed as RSS and Atom."""

import json
import re
from datetime import UTC, datetime
from typing import Any

from newswire.schemas.feed import FeedEntry, ParsedFeed, SkippedItem
from newswire.services.errors import FetchKind, PermanentFetch
from newswire.services.sources.feeds import (
    MAX_HUBS,
    Caps,
    FeedLimits,
    absolute_link,
    html_to_text,
    public_link,
    skipped_item,
)

VERSION_PREFIX = "https://jsonfeed.org/version/"
# A JSON Feed is four levels deep (feed, items, item, authors); anything nested deeper than
# this is no field we read, and Python's parser gives up near 1,000 levels (RecursionError).
MAX_DEPTH = 32
JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def shallow(text: str, limit: int = MAX_DEPTH) -> tuple[str, int]:
    """`text` with every JSON value nested deeper than `limit` replaced by `null`, and how
    many were: one item nested 2,000 deep costs that item's field, not the whole feed."""
    out: list[str] = []
    depth = kept_to = dropped = 0
    deep_from = -1
    for token in JSON_TOKEN.finditer(text):
        char = token.group()
        if char[0] == '"':
            continue
        if char in "[{":
            depth += 1
            if depth == limit + 1:
                deep_from = token.start()
        else:
            depth -= 1
            if depth == limit and deep_from >= 0:
                out += [text[kept_to:deep_from], "null"]
                kept_to, deep_from = token.end(), -1
                dropped += 1
    out.append(text[kept_to:] if deep_from < 0 else text[kept_to:deep_from] + "null")
    return "".join(out), dropped


def _load(text: str) -> tuple[Any, int]:
    """The parsed JSON, and how many too-deep values were dropped to parse it."""
    try:
        return json.loads(text), 0
    except RecursionError:
        cleaned, dropped = shallow(text)
        return json.loads(cleaned), dropped


def _list(value: Any) -> list[Any]:
    """A field the spec makes a list: anything else (a number, a string) is no list."""
    return value if isinstance(value, list) else []


def looks_like_json_feed(content: bytes) -> bool:
    """True when the bytes start like a JSON object naming the JSON Feed version."""
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and b"jsonfeed.org/version" in content[:65536]


def _date(value: Any) -> datetime | None:
    """An RFC 3339 date, in UTC; None when missing, malformed or without a time zone."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _authors(item: dict[str, Any], feed_authors: list[str]) -> list[str]:
    # 1.1 has `authors` (a list); 1.0 had one `author`. Either may be missing or malformed.
    raw = item.get("authors")
    if not isinstance(raw, list):
        raw = [item["author"]] if isinstance(item.get("author"), dict) else []
    names = [_text(a.get("name")) for a in raw if isinstance(a, dict)]
    return [n for n in dict.fromkeys(names) if n] or feed_authors


def _guid(value: Any) -> str | None:
    """The item's id: a string (or a number, which 1.0 feeds write), at most 2,000 chars."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip()[:2000] or None


def _item(
    item: dict[str, Any], feed_url: str, language: str | None, feed_authors: list[str], caps: Caps
) -> FeedEntry:
    link = _text(item.get("url")) or _text(item.get("external_url"))
    html = _text(item.get("content_html"))
    body = html_to_text(html) if html else _text(item.get("content_text"))
    summary = _text(item.get("summary"))
    tags = [t.strip() for t in _list(item.get("tags")) if isinstance(t, str) and t.strip()]
    image = _text(item.get("image")) or _text(item.get("banner_image"))
    item_language = _text(item.get("language")).split("-")[0].lower() or language
    describe = link or _text(item.get("id")) or "an item without url"
    return FeedEntry(
        feed_url=feed_url,
        link=public_link(absolute_link(link, feed_url)),
        guid=public_link(_guid(item.get("id"))),
        title=caps.text(
            html_to_text(_text(item.get("title"))), caps.limits.title_chars, "title", describe
        ),
        summary=caps.text(body or summary, caps.limits.summary_chars, "summary", describe),
        authors=caps.names(_authors(item, feed_authors), caps.limits.authors, "authors", describe),
        published_at=_date(item.get("date_published")),
        updated_at=_date(item.get("date_modified")),
        tags=caps.names(list(dict.fromkeys(tags)), caps.limits.tags, "tags", describe),
        image=public_link(absolute_link(image, feed_url)),
        language=item_language,
    )


def parse_json_feed(content: bytes, feed_url: str, limits: FeedLimits | None = None) -> ParsedFeed:
    """A JSON Feed's items as FeedEntries; PermanentFetch when it is not a JSON Feed at all.

    Items that are not objects are skipped (and counted in `salvaged`), as feedparser salvages
    what it can of a malformed XML feed.
    """
    limits = limits or FeedLimits()
    try:
        data, too_deep = _load(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PermanentFetch(
            feed_url, f"not a feed (invalid JSON Feed: {exc})", kind=FetchKind.NOT_A_FEED
        ) from None
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or not version.startswith(VERSION_PREFIX):
        raise PermanentFetch(
            feed_url, "not a feed (JSON without a JSON Feed version)", kind=FetchKind.NOT_A_FEED
        )
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise PermanentFetch(
            feed_url, "not a feed (JSON Feed without an items list)", kind=FetchKind.NOT_A_FEED
        )
    items = [i for i in raw_items if isinstance(i, dict)]
    notes = []
    if len(items) < len(raw_items):
        notes.append(f"{len(raw_items) - len(items)} item(s) not objects, skipped")
    if too_deep:
        notes.append(f"{too_deep} value(s) nested deeper than {MAX_DEPTH} levels dropped")
    salvaged = "; ".join(notes) or None
    language = _text(data.get("language")).split("-")[0].lower() or None
    caps = Caps(limits)
    if len(items) > limits.entries:
        caps.cuts.append(f"entries cut from {len(items)} to {limits.entries}")
    feed_authors = _authors(data, [])
    entries: list[FeedEntry] = []
    skipped: list[SkippedItem] = []
    for item in items[: limits.entries]:
        try:
            entries.append(_item(item, feed_url, language, feed_authors, caps))
        except Exception as exc:  # one odd item is its own outcome, never the feed's end
            link = item.get("url") or item.get("external_url")
            skipped.append(skipped_item(link, item.get("id"), item.get("title"), exc))
    home = _text(data.get("home_page_url"))
    hubs = [
        _text(h.get("url")) for h in _list(data.get("hubs"))[:MAX_HUBS]
        if isinstance(h, dict) and _text(h.get("type")).lower() == "websub"
    ]  # fmt: skip
    return ParsedFeed(
        url=feed_url,
        title=html_to_text(_text(data.get("title"))),
        site_url=absolute_link(home, feed_url),
        language=language,
        format="json" + version.removeprefix(VERSION_PREFIX).replace(".", ""),
        salvaged=salvaged,
        cuts=caps.listed(),
        entries=entries,
        skipped=skipped,
        hubs=[h for h in (public_link(absolute_link(h, feed_url)) for h in hubs) if h],
        self_url=public_link(absolute_link(_text(data.get("feed_url")), feed_url)),
    )
