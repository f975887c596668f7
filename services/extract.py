"""Extract: the article body and metadata from page HTML with trafilatura (which never fetches)."""

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Document

from services.errors import NewswireError

LANG_CODE = re.compile(r"^[a-zA-Z]{2,3}")
PUBLISHED_XPATHS = (
    '//meta[@property="article:published_time"]/@content',
    '//meta[@name="article:published_time"]/@content',
    '//meta[@itemprop="datePublished"]/@content',
    '//*[@itemprop="datePublished"]/@datetime',
    '//meta[@name="pubdate" or @name="publishdate" or @name="date" or @name="dc.date"]/@content',
    '//meta[@property="og:published_time"]/@content',
)
MODIFIED_XPATHS = (
    '//meta[@property="article:modified_time"]/@content',
    '//meta[@property="og:updated_time"]/@content',
    '//meta[@itemprop="dateModified"]/@content',
)
# A page needs a little text before a language detector's guess means anything.
MIN_WORDS_FOR_DETECTION = 15


class ExtractionError(NewswireError):
    """The page could not be parsed or yielded no article text."""


@dataclass(frozen=True)
class Timestamp:
    """A point in time from a page, and whether it carried a time of day or only a date."""

    value: datetime
    has_time: bool


@dataclass(frozen=True)
class Extracted:
    """What a page says about itself, beside its body text."""

    body: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    published: Timestamp | None = None
    modified: Timestamp | None = None
    source: str | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    canonical: str | None = None
    description: str = ""


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


def _first_timestamp(
    tree: HtmlElement, xpaths: tuple[str, ...], jsonld_key: str
) -> Timestamp | None:
    for xpath in xpaths:
        for value in tree.xpath(xpath):
            if stamp := parse_timestamp(str(value)):
                return stamp
    for obj in _jsonld_objects(tree):
        if stamp := parse_timestamp(str(obj.get(jsonld_key) or "")):
            return stamp
    return None


def _jsonld_objects(tree: HtmlElement) -> list[dict[str, object]]:
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


def page_language(tree: HtmlElement) -> str | None:
    """ISO 639-1 from <html lang>, og:locale or Content-Language, without region."""
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    candidates += tree.xpath('//meta[@property="og:locale"]/@content')
    candidates += tree.xpath('//meta[@http-equiv="content-language" or @name="language"]/@content')
    for candidate in candidates:
        if candidate and (match := LANG_CODE.match(str(candidate).strip())):
            return match.group(0).lower()[:2]
    return None


def detect_language(text: str) -> str | None:
    """Language of the text by py3langid, for pages that do not declare one."""
    if len(text.split()) < MIN_WORDS_FOR_DETECTION:
        return None
    import py3langid  # noqa: PLC0415 -- its model takes a second to load; most pages declare

    code, _score = py3langid.classify(text[:5000])
    return str(code)


def _canonical(tree: HtmlElement) -> str | None:
    for href in tree.xpath('//link[@rel="canonical"]/@href'):
        if str(href).strip():
            return str(href).strip()
    return None


def _paragraphs(text: str) -> str:
    """trafilatura puts one block per line; the contract wants blank lines between them."""
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def _authors(raw: str | None) -> list[str]:
    if not raw:
        return []
    return list(dict.fromkeys(a.strip() for a in raw.split(";") if a.strip()))


def extract(html: str, url: str) -> Extracted:
    """Extract body and metadata from decoded page HTML; raise ExtractionError when there is none.

    Signals trafilatura does not keep (html lang, full timestamps, rel=canonical) are read from
    the same parsed tree first, because extraction prunes the tree as it goes.
    """
    tree = trafilatura.load_html(html)
    if tree is None:
        raise ExtractionError("page is not parseable HTML")
    language = page_language(tree)
    published = _first_timestamp(tree, PUBLISHED_XPATHS, "datePublished")
    modified = _first_timestamp(tree, MODIFIED_XPATHS, "dateModified")
    canonical = _canonical(tree)
    try:
        doc = trafilatura.bare_extraction(
            tree, url=url, with_metadata=True, include_comments=False, include_tables=True
        )
    except Exception as exc:
        raise ExtractionError(f"trafilatura failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(doc, Document) or not doc.text:
        raise ExtractionError("no article text found")
    body = _paragraphs(str(doc.text))
    if published is None and doc.date:
        published = parse_timestamp(str(doc.date))
    return Extracted(
        body=body,
        title=str(doc.title or ""),
        authors=_authors(doc.author),
        published=published,
        modified=modified,
        source=str(doc.sitename) if doc.sitename else None,
        language=language or detect_language(body),
        tags=list(dict.fromkeys([*(doc.categories or []), *(doc.tags or [])])),
        image=str(doc.image) if doc.image else None,
        canonical=canonical,
        description=str(doc.description or ""),
    )
