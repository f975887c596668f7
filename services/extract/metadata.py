"""Metadata: what a page says about itself in <meta> tags, JSON-LD and <html lang>, in one pass."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from htmldate import find_date
from lxml.html import HtmlElement
from newswire.services.extract import jsonld
from newswire.services.extract.bylines import byline_names, bylines, cms_account
from newswire.services.extract.coauthors import co_authors
from newswire.services.extract.dateline import dateline_time, title_day
from newswire.services.extract.editors import writers_instead
from newswire.services.extract.sitenames import names_a_site

# A credit that is an address, not a name: a URL, an e-mail address, a number.
NOT_A_NAME = re.compile(r"(?:https?://|www\.|@|\.[a-z]{2,3}$|\d{3,})", re.IGNORECASE)


# A language tag: ISO 639-1 ("de", "pt-BR", "en_US") or a three-letter code; not "utf-8"
# (which some pages put in Content-Language).
LANG_CODE = re.compile(r"^([a-zA-Z]{2,3})(?:$|[-_])")
THREE_LETTER = {
    "eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es", "ita": "it",
    "por": "pt", "nld": "nl", "dut": "nl", "rus": "ru", "zho": "zh", "chi": "zh", "jpn": "ja",
    "kor": "ko", "pol": "pl", "tur": "tr", "ukr": "uk", "swe": "sv", "nor": "no", "dan": "da",
}  # fmt: skip
PUBLISHED_KEYS = (
    "article:published_time", "article:published:time", "datepublished", "og:published_time",
    "pubdate", "publishdate", "date", "dc.date", "dc.date.issued", "sailthru.date",
    "parsely-pub-date",
)  # fmt: skip
MODIFIED_KEYS = (
    "article:modified_time",
    "article:modified:time",
    "og:updated_time",
    "datemodified",
    "last-modified",
)
TITLE_KEYS = ("og:title", "twitter:title", "headline", "parsely-title")
AUTHOR_KEYS = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
SITE_KEYS = ("og:site_name", "application-name", "publisher")
IMAGE_KEYS = ("og:image", "og:image:url", "twitter:image", "twitter:image:src")
TAG_KEYS = ("article:tag", "news_keywords", "keywords", "parsely-tags")
DESCRIPTION_KEYS = ("og:description", "description", "twitter:description")
WEBPAGE = re.compile(r"\W*(?:WebPage|ItemPage)\W*", re.I)
JSONLD_ARTICLE = re.compile(r"(News)?Article|BlogPosting|Report|WebPage|ClaimReview", re.I)


@dataclass(frozen=True)
class Timestamp:
    """A point in time from a page, whether it carried a time of day or only a date, and the
    UTC offset it was written with (None: it named none, and was read as UTC)."""

    value: datetime
    has_time: bool
    offset: timedelta | None = None

    @property
    def quality(self) -> int:
        """3: time and zone, 2: time without zone, 1: a date only."""
        return 1 if not self.has_time else (3 if self.offset is not None else 2)

    def in_zone(self, offset: timedelta) -> "Timestamp":
        """A zoneless time read in the page's own zone (found on another of its timestamps)."""
        if self.offset is not None or not self.has_time:
            return self
        return Timestamp(self.value - offset, True, offset)


@dataclass(frozen=True)
class PageMeta:
    """The page's own claims about itself. `titles` holds every headline candidate."""

    titles: list[str] = field(default_factory=list)
    # (source, text) of every headline candidate: og:title, twitter:title, headline,
    # parsely-title (together the "social" source), jsonld, h1, title.
    title_claims: list[tuple[str, str]] = field(default_factory=list)
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
    offset = parsed.utcoffset() if parsed.tzinfo is not None else None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return Timestamp(parsed.astimezone(UTC), has_time, offset)


def best_timestamp(values: list[str]) -> Timestamp | None:
    """The most precise of a page's claims (time and zone, then time, then date), the first
    one among equals; a zoneless time takes the zone of another claim on the page."""
    parsed = [t for t in (parse_timestamp(v) for v in values) if t is not None]
    if not parsed:
        return None
    best = max(parsed, key=lambda t: t.quality)  # max keeps the first of equals
    zone = next((t.offset for t in parsed if t.offset is not None), None)
    return best.in_zone(zone) if zone is not None else best


SCANNED = ("meta", "script", "link", "time", "h1", "title")


MARKS = ":,.!?;…"


def _inline_text(element: HtmlElement) -> str:
    """A headline's text with its inline parts joined by spaces ("<span>Kicker</span>Title"
    stays two words), but no space added before a part that starts with punctuation
    ("Gesetz<i>:</i>"); spaces the page itself writes stay ("Ukraine : la Russie")."""
    text = ""
    for part in element.itertext():
        if text and part and not part.startswith(tuple(MARKS)):
            text += " "
        text += part
    return text


def time_claims(times: list[HtmlElement]) -> list[str]:
    """The datetime of <time> elements that say they are the publication time, and of the
    first <time datetime> among its siblings, in document order (at most three)."""
    found: list[str] = []
    parents_seen: set[HtmlElement] = set()
    for element in times:
        value = element.get("datetime")
        if value is None:
            continue
        parent = element.getparent()
        first_of_parent = parent not in parents_seen
        parents_seen.add(parent)
        says = element.get("itemprop") == "datePublished" or element.get("pubdate") is not None
        if says or first_of_parent:
            found.append(value)
    return found[:3]


def guess_date(tree: HtmlElement, titles: list[str]) -> Timestamp | None:
    """A page without any published claim: the day its own title ends with, else htmldate's
    day from the markup and text (it costs a few milliseconds, so only then); with the time
    printed beside that day, if any."""
    day = title_day(titles)
    if day is not None:
        found: str | None = day.isoformat()
    else:
        try:
            found = find_date(tree, extensive_search=False, original_date=True)
        except Exception:  # htmldate on odd markup: no date rather than no article
            return None
    if not found:
        return None
    stamp = parse_timestamp(str(found))
    if stamp is None:
        return None
    # The day as printed often has its time beside it ("25.04.24 | 14:07 Uhr"): a wall-clock
    # time, read as UTC like any zoneless claim (the feed's zoned time beats it, reconcile).
    when = dateline_time(tree, stamp.value.date())
    return Timestamp(when.replace(tzinfo=UTC), True) if when else Timestamp(stamp.value, False)


def _meta_tags(metas: list[HtmlElement]) -> dict[str, list[str]]:
    """<meta> content by lower-cased property/name/itemprop, in document order."""
    found: dict[str, list[str]] = {}
    for meta in metas:
        content = (meta.get("content") or meta.get("datetime") or "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attr)
            if key:
                found.setdefault(key.strip().lower(), []).append(content)
    return found


def _names(value: object, ids: dict[str, dict[str, object]] | None = None) -> list[str]:
    """Person/organization names from a JSON-LD author/publisher value: a name, an object with
    a name (or givenName and familyName), or a reference to such an object by its @id."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        ref = value.get("@id")
        if "name" not in value and isinstance(ref, str) and ids and ref in ids:
            value = ids[ref]  # Yoast's graphs: "author": {"@id": ".../#/person/..."}
        if cms_account(value):
            return []  # the CMS's admin account posted it; the byline may say who wrote it
        name = value.get("name")
        if isinstance(name, str):
            return [name]
        parts = [value.get("givenName"), value.get("familyName")]
        return [" ".join(p for p in parts if isinstance(p, str))] if any(parts) else []
    if isinstance(value, list):
        return [n for v in value for n in _names(v, ids)]
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


def is_address(credit: str) -> bool:
    """A one-word credit that is a profile URL (also "//host/..."), an e-mail address or a
    domain, not a name."""
    return " " not in credit and (bool(NOT_A_NAME.search(credit)) or credit.startswith("//"))


def _split_people(values: list[str]) -> list[str]:
    people: list[str] = []
    for value in values:
        if value.startswith(("http://", "https://")):
            continue  # article:author is often a profile URL
        people += re.split(r"\s*(?:;|\band\b|&|,)\s*", value) if len(value) > 40 else [value]
    return _unique(people)


def written_by(meta: dict[str, list[str]]) -> list[str]:
    """Yoast's "Written by" twitter labels: twitter:label1 "Written by" + twitter:data1 "Name",
    or twitter:misc:written by."""
    names = list(meta.get("twitter:misc:written by", []))
    for n in range(1, 5):
        if [v.casefold() for v in meta.get(f"twitter:label{n}", [])][:1] == ["written by"]:
            names += meta.get(f"twitter:data{n}", [])[:1]
    return names


def read_meta(tree: HtmlElement, html: str = "") -> PageMeta:
    """Everything from <meta>, JSON-LD, <title>, <h1>, rel=canonical and lang, cheaply (the
    page's `html` for a look at how it labels a credit)."""
    # One walk over the tree for every element read here (each XPath or iter() is a walk of
    # its own, ~0.15 ms on a news page).
    found: dict[str, list[HtmlElement]] = {tag: [] for tag in SCANNED}
    for element in tree.iter(*SCANNED):
        found[element.tag].append(element)
    meta = _meta_tags(found["meta"])
    objects = jsonld.objects(found["script"])
    canonical = next(
        (
            str(h).strip()
            for e in found["link"]
            if e.get("rel") == "canonical" and (h := e.get("href"))
        ),
        None,
    )
    ld = [o for o in objects if JSONLD_ARTICLE.search(str(o.get("@type", "")))]
    h1 = next(iter(found["h1"]), None)  # the headline: bylines stand near it
    ids = {ref: o for o in objects if isinstance(ref := o.get("@id"), str)}

    def first(keys: tuple[str, ...]) -> list[str]:
        return [v for k in keys for v in meta.get(k, [])]

    def ld_values(key: str) -> list[object]:
        return [o[key] for o in ld if o.get(key)]

    # Each social claim keeps its tag's name: a site's learned title source may be one of
    # them (services/extract/titlehabit.py); the vote counts them as one "social" source.
    claims = [(key, t) for key in TITLE_KEYS for t in meta.get(key, [])]
    claims += [("jsonld", str(v)) for v in ld_values("headline") if isinstance(v, str)]
    claims += [("h1", _inline_text(h)) for h in found["h1"][:2]]
    claims += [("title", " ".join(t.itertext())) for t in found["title"][:1]]
    titles = [text for _source, text in claims]
    sites = first(SITE_KEYS) + [n for v in ld_values("publisher") for n in _names(v, ids)]
    # The article's own JSON-LD credits first; a WebPage's author is often the CMS user who
    # posted it, and <meta> authors are a template's guess, so both only stand in for them.
    stories = [o for o in ld if not WEBPAGE.fullmatch(str(o.get("@type", "")))]
    authors = [n for o in stories for n in _names(o.get("author"), ids)]
    if not authors:
        authors = [n for v in ld_values("author") for n in _names(v, ids)]
        authors += first(AUTHOR_KEYS) + written_by(meta)
    # Credits naming the publication ("mdr.de", "Deutsche Welle (www.dw.com)") or only an
    # address are not authors; when nothing else is claimed, look for a byline instead.
    url = canonical or next(iter(first(("og:url",))), None)
    site_names: list[str | None] = [*sites] or [None]  # the host alone, when nothing names it
    authors = [a for a in authors if not names_a_site(a, site_names, url)]
    # one person named: the page's own byline may name them all
    authors = co_authors(tree, h1, _unique(authors), site_names, url) or authors
    credited = _unique(authors)  # one person, whom the page labels its editor: who wrote it?
    authors = writers_instead(tree, h1, credited, html=html, sites=site_names, url=url) or authors
    if all(map(is_address, authors)):
        # A byline in the markup: searched only when needed (~1.7 ms a page).
        for byline in bylines(tree, h1):
            names = [a for a in byline_names(byline, site_names, url) if not is_address(a)]
            if names:
                authors += names
                break
    # JSON-LD first: publishers keep it right for search engines; <meta> tags are more often a
    # template's guess (local time labelled UTC, the modification time).
    times = time_claims(found["time"])
    published = best_timestamp(
        [str(v) for v in ld_values("datePublished")] + first(PUBLISHED_KEYS) + times
    )
    if published is None:
        published = guess_date(tree, titles)
    modified = best_timestamp([str(v) for v in ld_values("dateModified")] + first(MODIFIED_KEYS))
    if modified is not None and published is not None and published.offset is not None:
        modified = modified.in_zone(published.offset)
    images = first(IMAGE_KEYS) + [t for v in ld_values("image") if (t := _text(v))]
    tags = [t for v in first(TAG_KEYS) for t in v.split(",")]
    return PageMeta(
        titles=_unique(titles),
        title_claims=[(s, " ".join(t.split())) for s, t in claims if t.strip()],
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
            code = match.group(1).lower()
            code = THREE_LETTER.get(code, "") if len(code) == 3 else code
            if code:
                return code
    return None
