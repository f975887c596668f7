"""Metadata: what a page says about itself in <meta> tags, JSON-LD and <html lang>, in one pass."""

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml.html import HtmlElement

LANG_CODE = re.compile(r"^[a-zA-Z]{2,3}")
PUBLISHED_KEYS = (
    "article:published_time", "datepublished", "og:published_time", "pubdate", "publishdate",
    "date", "dc.date", "dc.date.issued", "sailthru.date", "parsely-pub-date",
)  # fmt: skip
MODIFIED_KEYS = ("article:modified_time", "og:updated_time", "datemodified", "last-modified")
TITLE_KEYS = ("og:title", "twitter:title", "headline", "parsely-title")
AUTHOR_KEYS = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
SITE_KEYS = ("og:site_name", "application-name", "publisher")
IMAGE_KEYS = ("og:image", "og:image:url", "twitter:image", "twitter:image:src")
TAG_KEYS = ("article:tag", "news_keywords", "keywords", "parsely-tags")
DESCRIPTION_KEYS = ("og:description", "description", "twitter:description")
JSONLD_ARTICLE = re.compile(r"(News)?Article|BlogPosting|Report|WebPage", re.I)


@dataclass(frozen=True)
class Timestamp:
    """A point in time from a page, and whether it carried a time of day or only a date."""

    value: datetime
    has_time: bool


@dataclass(frozen=True)
class PageMeta:
    """The page's own claims about itself. `titles` holds every headline candidate."""

    titles: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    published: Timestamp | None = None
    modified: Timestamp | None = None
    source: str | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    canonical: str | None = None
    description: str = ""

    @property
    def title(self) -> str:
        return self.titles[0] if self.titles else ""


def parse_timestamp(value: str | None) -> Timestamp | None:
    """An ISO 8601 date or timestamp as UTC; a timestamp without offset is taken as UTC."""
    if not value:
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    has_time = "T" in text or " " in text or ":" in text
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return Timestamp(parsed.astimezone(UTC), has_time)


def jsonld_objects(tree: HtmlElement) -> list[dict[str, object]]:
    """Every JSON-LD object on the page, @graph members flattened; junk is skipped."""
    objects: list[dict[str, object]] = []
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                objects.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
    return objects


def _meta_tags(tree: HtmlElement) -> dict[str, list[str]]:
    """<meta> content by lower-cased property/name/itemprop, in document order."""
    found: dict[str, list[str]] = {}
    for meta in tree.iter("meta"):
        content = (meta.get("content") or meta.get("datetime") or "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attr)
            if key:
                found.setdefault(key.strip().lower(), []).append(content)
    return found


def _names(value: object) -> list[str]:
    """Person/organization names from a JSON-LD author/publisher value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return _text(value.get("url"))
    if isinstance(value, list) and value:
        return _text(value[0])
    return None


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _split_people(values: list[str]) -> list[str]:
    people: list[str] = []
    for value in values:
        if value.startswith(("http://", "https://")):
            continue  # article:author is often a profile URL
        people += re.split(r"\s*(?:;|\band\b|&|,)\s*", value) if len(value) > 40 else [value]
    return _unique(people)


def read_meta(tree: HtmlElement) -> PageMeta:
    """Everything from <meta>, JSON-LD, <title>, <h1>, rel=canonical and lang, cheaply."""
    meta = _meta_tags(tree)
    ld = [o for o in jsonld_objects(tree) if JSONLD_ARTICLE.search(str(o.get("@type", "")))]

    def first(keys: tuple[str, ...]) -> list[str]:
        return [v for k in keys for v in meta.get(k, [])]

    def ld_values(key: str) -> list[object]:
        return [o[key] for o in ld if o.get(key)]

    titles = first(TITLE_KEYS) + [str(v) for v in ld_values("headline") if isinstance(v, str)]
    titles += [" ".join(h.itertext()) for h in tree.iter("h1")][:2]
    titles += [" ".join(t.itertext()) for t in tree.iter("title")][:1]
    authors = [n for v in ld_values("author") for n in _names(v)] + first(AUTHOR_KEYS)
    if not authors:
        authors = [" ".join(a.itertext()) for a in tree.xpath('//*[@rel="author"]')][:3]
    published = None
    for value in first(PUBLISHED_KEYS) + [str(v) for v in ld_values("datePublished")]:
        if published := parse_timestamp(value):
            break
    if published is None:
        for value in tree.xpath("//time/@datetime")[:3]:
            if published := parse_timestamp(str(value)):
                break
    modified = None
    for value in first(MODIFIED_KEYS) + [str(v) for v in ld_values("dateModified")]:
        if modified := parse_timestamp(value):
            break
    sites = first(SITE_KEYS) + [n for v in ld_values("publisher") for n in _names(v)]
    images = first(IMAGE_KEYS) + [t for v in ld_values("image") if (t := _text(v))]
    tags = [t for v in first(TAG_KEYS) for t in v.split(",")]
    canonical = next((str(h).strip() for h in tree.xpath('//link[@rel="canonical"]/@href')), None)
    return PageMeta(
        titles=_unique(titles),
        authors=_split_people(_unique(authors))[:10],
        published=published,
        modified=modified,
        source=next(iter(_unique(sites)), None),
        language=page_language(tree, meta),
        tags=_unique(tags)[:30],
        image=next(iter(_unique(images)), None),
        canonical=canonical or None,
        description=next(iter(_unique(first(DESCRIPTION_KEYS))), ""),
    )


def page_language(tree: HtmlElement, meta: dict[str, list[str]]) -> str | None:
    """ISO 639-1 from <html lang>, og:locale or Content-Language, without region."""
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    candidates += meta.get("og:locale", []) + meta.get("content-language", [])
    candidates += meta.get("language", [])
    for candidate in candidates:
        if candidate and (match := LANG_CODE.match(str(candidate).strip())):
            return match.group(0).lower()[:2]
    return None
