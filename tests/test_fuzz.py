"""Fuzzing the parsers: mutated feeds and pages (real-world ones from ../shared when present,
plus our own seeds) never crash, hang or blow up memory; they parse, or fail with our error.

`make test` runs a bounded number of examples; `make bench` runs many more
(NEWSWIRE_FUZZ_EXAMPLES) and reports the figures.
"""

import gzip
import os
import random
import resource
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from newswire.schemas.feed import FeedEntry
from newswire.services.errors import PermanentFetch
from newswire.services.extract.normalize import build_article
from newswire.services.extract.page import ExtractionError, extract
from newswire.services.fetch.charset import decode_html
from newswire.services.sources.kinds import parse_source

from tests.support.pages import article_page, item, paragraphs, rss2

EXAMPLES = int(os.environ.get("NEWSWIRE_FUZZ_EXAMPLES", "120"))
SHARED = Path(os.environ.get("NEWSWIRE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
MAX_SEED_BYTES = 200_000
NOW = datetime(2026, 11, 28, tzinfo=UTC)
MEMORY_GROWTH_MIB = 300  # peak RSS may not grow by more than this over a whole run

HOSTILE = [
    b'<!DOCTYPE r [\n<!ENTITY big "' + b"A" * 5000 + b'">\n]>',
    b"&big;" * 50,
    b"<![CDATA[",
    b"]]>",
    b"\x00\xff\xfe",
    b"<" * 200,
    b'<a href="javascript:alert(1)">',
    b'<img src="http://[::1]/x">',
    b"&#x110000;&#0;&#xD800;",
    b'<?xml version="1.0" encoding="utf-16"?>',
    b'<meta charset="x-unknown-charset">',
    b"<div>" * 300,
]


def _seed_files(folder: Path, suffixes: tuple[str, ...], limit: int) -> list[bytes]:
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.rglob("*") if p.suffix in suffixes and p.is_file())
    random.Random(7).shuffle(files)
    return [p.read_bytes()[:MAX_SEED_BYTES] for p in files[:limit]]


SITEMAP_SEED = (
    b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
    + b"".join(
        b"<url><loc>https://example.com/s/%d</loc><news:news><news:publication_date>"
        b"2026-11-27T10:00:00Z</news:publication_date><news:title>T %d</news:title>"
        b"</news:news></url>" % (n, n)
        for n in range(20)
    )
    + b"</urlset>"
)
FEED_SEEDS = [
    rss2(
        [item(f"https://example.com/{n}", f"Story {n}", f"<p>Summary {n}</p>") for n in range(5)]
    ).encode(),
    b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
    b'<entry><title>E</title><link href="/e"/><id>urn:e</id></entry></feed>',
    *_seed_files(SHARED / "corpus" / "feeds", (".xml", ".rss", ".atom", ".rdf"), 60),
    # JSON Feed and sitemaps: every kind parse_source tells apart.
    b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
    b'{"id": "1", "url": "https://example.com/1", "title": "T", "content_html": "<p>x</p>",'
    b' "date_published": "2026-11-27T10:00:00Z", "authors": [{"name": "A"}], "tags": ["t"]}]}',
    SITEMAP_SEED,
    gzip.compress(SITEMAP_SEED),
    *[s for s in _seed_files(SHARED / "corpus" / "feeds", (".json",), 40) if b"jsonfeed" in s],
]
PAGE_SEEDS = [
    article_page("A story", paragraphs("A story")).encode(),
    *_seed_files(SHARED / "corpus" / "article-extraction-benchmark", (".html",), 15),
]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with a few random edits: flips, cuts, splices, hostile snippets."""
    doc = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "hostile", "duplicate", "truncate"]))
        at = draw(st.integers(0, max(0, len(doc))))
        if op == "flip" and doc:
            doc[min(at, len(doc) - 1)] = draw(st.integers(0, 255))
        elif op == "cut":
            del doc[at : at + draw(st.integers(1, 200))]
        elif op == "insert":
            doc[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif op == "hostile":
            doc[at:at] = draw(st.sampled_from(HOSTILE))
        elif op == "duplicate":
            doc[at:at] = doc[at : at + draw(st.integers(1, 2000))]
        elif op == "truncate":
            del doc[at:]
    return bytes(doc)


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=5000,  # ms per example: a hang is a failure, not a slow test
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=EXAMPLES <= 200,  # the same examples in every `make test`
    database=None,
)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


START_RSS = peak_rss_mib()


@FUZZ
@given(
    mutated(FEED_SEEDS),
    st.sampled_from([None, "application/rss+xml", "text/html; charset=latin-1"]),
)
def test_mutated_feeds_parse_or_fail_cleanly(content: bytes, content_type: str | None) -> None:
    try:
        feed = parse_source(content, "https://example.com/feed.xml", content_type, now=NOW)
    except PermanentFetch as exc:
        assert exc.reason.startswith("not a feed")
        return
    assert len(feed.entries) <= 500
    for entry in feed.entries:
        assert len(entry.title) <= 1000 and len(entry.summary) <= 100_000
    assert peak_rss_mib() - START_RSS < MEMORY_GROWTH_MIB


@FUZZ
@given(mutated(PAGE_SEEDS), st.sampled_from([None, "text/html", "text/html; charset=utf-16"]))
def test_mutated_pages_extract_or_fail_cleanly(content: bytes, content_type: str | None) -> None:
    html = decode_html(content, content_type)
    entry = FeedEntry(
        feed_url="https://example.com/feed.xml", link="https://example.com/a", title="A"
    )
    try:
        page = extract(html, "https://example.com/a")
    except ExtractionError:
        page = None
    article = build_article(
        entry, fetched_url="https://example.com/a", page=page, error=None, now=datetime.now(UTC)
    )
    assert article.url == "https://example.com/a"
    assert peak_rss_mib() - START_RSS < MEMORY_GROWTH_MIB
