"""Sources besides RSS and Atom, told apart by content: JSON Feed and sitemaps (news, plain,
indexes, gzip), over real HTTP to fixture sites, broken input included."""

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from newswire.services.errors import PermanentFetch, TransientFetch
from newswire.services.ingest.outcomes import Outcome
from newswire.services.polling.registry import Registry
from newswire.services.settings import Settings
from newswire.services.sources.jsonfeed import parse_json_feed
from newswire.services.sources.kinds import parse_source
from newswire.services.sources.sitemaps import parse_sitemap
from newswire.workers.runtime import build_runtime

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import ingest, stream
from tests.support.processes import newswire
from tests.support.site import Site

SHARED = Path(os.environ.get("NEWSWIRE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
FEEDS = SHARED / "corpus" / "feeds"
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def json_feed(items: list[dict[str, object]], version: str = "1.1") -> str:
    return json.dumps(
        {"version": f"https://jsonfeed.org/version/{version}", "title": "Fixture JSON",
         "home_page_url": "https://fixture.example/", "language": "en-GB", "items": items}
    )  # fmt: skip


def urlset(urls: list[tuple[str, datetime | None, str | None]]) -> str:
    """A sitemap; with a title, the URL gets a Google News block."""
    rows = []
    for loc, when, title in urls:
        news = ""
        if title is not None and when is not None:
            news = (
                "<news:news><news:publication><news:name>Fixture</news:name>"
                "<news:language>de</news:language></news:publication>"
                f"<news:publication_date>{iso(when)}</news:publication_date>"
                f"<news:title>{title}</news:title></news:news>"
            )
        lastmod = f"<lastmod>{iso(when)}</lastmod>" if when is not None and not news else ""
        rows.append(f"<url><loc>{loc}</loc>{lastmod}{news}</url>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + "".join(rows) + "</urlset>"
    )


def index(children: list[tuple[str, datetime | None]]) -> str:
    rows = "".join(
        f"<sitemap><loc>{loc}</loc>" + (f"<lastmod>{iso(w)}</lastmod>" if w else "") + "</sitemap>"
        for loc, w in children
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</sitemapindex>'
    )


@pytest.mark.skipif(not FEEDS.exists(), reason="shared feed corpus not present")
def test_json_feeds_of_the_corpus_parse() -> None:
    found = [p for p in FEEDS.rglob("*.json") if b"jsonfeed.org/version" in p.read_bytes()[:65536]]
    assert len(found) >= 5
    for path in found:
        feed = parse_source(path.read_bytes(), "https://example.org/feed.json", None, now=NOW)
        assert feed.format in {"json1", "json11"}, path
        assert feed.entries and all(e.link or e.guid for e in feed.entries), path


def test_json_feed_items_map_to_entries() -> None:
    feed = parse_json_feed(
        json_feed([
            {"id": "1", "url": "/a", "title": "A &amp; B", "content_html": "<p>Hello <b>world</b></p>",
             "summary": "short", "date_published": "2026-11-27T10:00:00+01:00",
             "date_modified": "2026-11-27T12:00:00Z", "authors": [{"name": "Ana"}, {"name": "Ana"}],
             "tags": ["x", "y"], "image": "img.jpg"},
            {"id": 2, "external_url": "https://other.example/b", "content_text": "Text only",
             "author": {"name": "Old style"}, "date_published": "not a date", "language": "fr"},
        ], version="1").encode(),
        "https://fixture.example/feed.json",
    )  # fmt: skip
    a, b = feed.entries
    assert (a.link, a.guid, a.title, a.summary) == (
        "https://fixture.example/a",
        "1",
        "A & B",
        "Hello world",
    )
    assert a.published_at == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert a.updated_at == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert (a.authors, a.tags, a.image, a.language) == (
        ["Ana"],
        ["x", "y"],
        "https://fixture.example/img.jpg",
        "en",
    )
    assert (b.link, b.guid, b.summary, b.authors) == (
        "https://other.example/b",
        "2",
        "Text only",
        ["Old style"],
    )
    assert b.published_at is None and b.language == "fr"
    assert feed.format == "json1"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": 1', "invalid JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": {"a": 1}}', "without an items list"),
        (b'{"version": "https://jsonfeed.org/version/1.1"', "invalid JSON Feed"),
    ],
)  # fmt: skip
def test_broken_json_feeds_are_recorded(content: bytes, reason: str) -> None:
    with pytest.raises(PermanentFetch, match=reason):
        parse_source(content, "https://fixture.example/feed.json", "application/json", now=NOW)


def test_json_feed_items_that_are_not_objects_are_skipped() -> None:
    feed = parse_json_feed(
        json_feed([{"id": "1", "url": "https://f.example/a"}, "junk", 3]).encode(),
        "https://f.example/",
    )
    assert [e.link for e in feed.entries] == ["https://f.example/a"]
    assert feed.salvaged == "2 item(s) not objects, skipped"


def test_json_feed_over_http(settings: Settings, site: Site, redis_client: redis.Redis) -> None:
    page = site.add("/news/json-story", article_page("JSON story", paragraphs("JSON story")))
    feed = site.add(
        "/feed.json",
        json_feed([{"id": "js-1", "url": page, "title": "JSON story", "tags": ["politics"],
                    "date_published": iso(NOW)}]),
        "application/feed+json",
    )  # fmt: skip

    [report] = ingest(settings, feed)

    assert report.counts[Outcome.NEW] == 1, report.line()
    [article] = stream(redis_client)
    assert article.extraction == "full" and article.title == "JSON story"
    assert article.guid == "js-1" and "politics" in article.tags


def test_news_sitemap_recent_urls_become_entries() -> None:
    recent, old = NOW - timedelta(hours=3), NOW - timedelta(days=9)
    feed = parse_sitemap(
        urlset([
            ("https://f.example/a", recent, "Nachricht A"),
            ("https://f.example/old", old, "Alte Nachricht"),
            ("https://f.example/undated", None, None),
        ]).encode(),
        "https://f.example/news-sitemap.xml", now=NOW, window=timedelta(days=2),
    )  # fmt: skip
    [entry] = feed.entries
    assert (entry.link, entry.title, entry.published_at, entry.language) == (
        "https://f.example/a",
        "Nachricht A",
        recent,
        "de",
    )
    assert feed.format == "sitemap-news"
    assert "1 URL(s) older than the window and 1 without a date left out" in feed.cuts


def test_sitemaps_over_http_index_gzip_and_plain(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    pages = [site.add(f"/s/{n}", article_page(f"Sitemap story {n}", paragraphs(f"Map {n}")))
             for n in range(3)]  # fmt: skip
    recent = NOW - timedelta(hours=1)
    site.add(
        "/sitemap-news.xml.gz",
        gzip.compress(urlset([(pages[0], recent, "Sitemap story 0")]).encode()),
        "application/gzip",
    )
    site.add("/sitemap-pages.xml", urlset([(pages[1], recent, None), (pages[2], NOW - timedelta(days=30), None)]),
             "application/xml")  # fmt: skip
    site.add("/sitemap-old.xml", urlset([(site.url("/never"), recent, None)]), "application/xml")
    root = site.add(
        "/sitemap_index.xml",
        index([
            (site.url("/sitemap-news.xml.gz"), recent),
            (site.url("/sitemap-pages.xml"), None),
            (site.url("/sitemap-old.xml"), NOW - timedelta(days=20)),  # not read: too old
            (site.url("/sitemap-missing.xml"), recent),  # 404: recorded, the rest goes on
        ]),
        "text/xml",
    )  # fmt: skip

    [report] = ingest(settings, root)

    assert report.counts[Outcome.NEW] == 2, report.line()
    assert sorted(a.canonical_url or "" for a in stream(redis_client)) == sorted(pages[:2])
    assert "/sitemap-old.xml" not in site.paths_hit()
    assert any("sitemap-missing.xml" in cut for cut in report.cuts), report.cuts


def test_truncated_gzip_sitemap_keeps_what_came_before(settings: Settings, site: Site) -> None:
    recent = NOW - timedelta(hours=1)
    urls = [(f"https://f.example/story/{n}", recent, None) for n in range(400)]
    whole = gzip.compress(urlset(urls).encode())
    feed = parse_source(whole[: len(whole) // 2], "https://f.example/s.xml.gz", None, now=NOW)
    assert feed.salvaged is not None and "truncated gzip" in feed.salvaged
    assert 0 < len(feed.entries) < 400
    assert [e.link for e in feed.entries] == [u for u, _w, _t in urls[: len(feed.entries)]]


@pytest.mark.parametrize(
    "content",
    [
        b"\x1f\x8b\x08\x00garbage-not-deflate",
        b"<html><body>Not a sitemap</body></html>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><urlset><url><loc>&a;</loc></url>',
    ],
)
def test_broken_sitemaps_are_recorded_not_raised_as_crashes(content: bytes) -> None:
    try:
        feed = parse_source(content, "https://f.example/sitemap.xml", "text/xml", now=NOW)
    except PermanentFetch as exc:
        assert exc.reason.startswith("not a feed"), exc.reason
    else:
        # An entity is never expanded: the sitemap salvages nothing from it.
        assert all("aaaa" not in (e.link or "") for e in feed.entries)


def robots_feed(site: Site) -> tuple[str, list[str]]:
    pages = [
        site.add("/open/story", article_page("Open story", paragraphs("Open"))),
        site.add("/private/story", article_page("Private story", paragraphs("Private"))),
    ]
    feed = site.add(
        "/rss.xml",
        rss2([item(pages[0], "Open story", "Open story summary from the feed."),
              item(pages[1], "Private story", "Private story summary from the feed.")]),
        "application/rss+xml",
    )  # fmt: skip
    return feed, pages


@pytest.mark.parametrize(
    ("robots", "status", "private_allowed", "reason"),
    [
        ("User-agent: *\nDisallow: /private/\n", 200, False, "disallowed by robots.txt"),
        ("User-agent: newswire\nDisallow: /private\n\nUser-agent: *\nAllow: /\n", 200, False,
         "disallowed by robots.txt"),
        ("User-agent: otherbot\nDisallow: /\n", 200, True, None),
        ("<html><body><h1>Welcome</h1><p>Disallow: this is a page</p></body></html>", 200, True, None),
        ("gone", 404, True, None),
        ("oops", 503, False, "unreachable: all disallowed"),
    ],
)  # fmt: skip
def test_robots_txt_rules_page_fetches(
    settings: Settings, site: Site, redis_client: redis.Redis,
    robots: str, status: int, private_allowed: bool, reason: str | None,
) -> None:  # fmt: skip
    site.add("/robots.txt", robots, "text/plain", status=status)
    feed, pages = robots_feed(site)

    [report] = ingest(settings, feed)

    by_url = {a.url: a for a in stream(redis_client)}
    assert by_url[pages[0]].extraction == ("full" if status != 503 else "feed_summary")
    private = by_url[pages[1]]
    if private_allowed:
        assert private.extraction == "full", private.extraction_error
        assert "/private/story" in site.paths_hit()
    else:
        assert private.extraction == "feed_summary"
        assert reason is not None and reason in (private.extraction_error or "")
        assert private.body == "Private story summary from the feed."
        assert "/private/story" not in site.paths_hit()
        counters = redis_client.hgetall("newswire:metrics")
        assert int(counters[b"robots_disallowed|kind=page"]) >= 1
    assert site.paths_hit().count("/robots.txt") == 1, "fetched once per origin"
    assert report.counts[Outcome.FAILED] == 0


def test_robots_txt_can_be_turned_off(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    site.add("/robots.txt", "User-agent: *\nDisallow: /\n", "text/plain")
    feed, _pages = robots_feed(site)

    ingest(settings.model_copy(update={"robots_txt": False}), feed)

    assert {a.extraction for a in stream(redis_client)} == {"full"}
    assert "/robots.txt" not in site.paths_hit()


def test_robots_txt_rules_child_sitemaps(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    site.add("/robots.txt", "User-agent: *\nDisallow: /hidden/\n", "text/plain")
    page = site.add("/s/ok", article_page("Mapped story", paragraphs("Mapped")))
    recent = NOW - timedelta(hours=1)
    site.add("/maps/ok.xml", urlset([(page, recent, None)]), "application/xml")
    site.add(
        "/hidden/secret.xml", urlset([(site.url("/s/secret"), recent, None)]), "application/xml"
    )
    root = site.add("/sitemap.xml", index([(site.url("/maps/ok.xml"), recent),
                                           (site.url("/hidden/secret.xml"), recent)]), "text/xml")  # fmt: skip

    [report] = ingest(settings, root)

    assert report.counts[Outcome.NEW] == 1, report.line()
    assert "/hidden/secret.xml" not in site.paths_hit()
    assert any("secret.xml: disallowed by robots.txt" in c for c in report.cuts), report.cuts


def test_crawl_delay_spaces_fetches_to_the_host(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    site.add("/robots.txt", "User-agent: *\nCrawl-delay: 5\n", "text/plain")
    runtime = build_runtime(settings.model_copy(update={"host_rate": 100.0, "host_burst": 50}))
    try:
        assert runtime.pipeline.robots is not None
        assert runtime.pipeline.robots.verdict(site.url("/a")).allowed
        first = runtime.limiter.wait_seconds(site.url("/a"))
        second = runtime.limiter.wait_seconds(site.url("/b"))
    finally:
        runtime.close()
    # Without the delay, a burst of 50 would let both through at once.
    assert first == 0 and 4.0 < second <= 5.0


def test_discover_finds_alternates_robots_sitemaps_and_common_paths(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    page = site.add("/s/1", article_page("Story one", paragraphs("One")))
    recent = NOW - timedelta(hours=1)
    rss = site.add("/news/rss", rss2([item(page, "Story one")]), "application/rss+xml")
    site.add("/feed.json", json_feed([{"id": "1", "url": page}, {"id": "2", "url": page + "?2"}]),
             "application/feed+json")  # fmt: skip
    site.add("/maps/news.xml", urlset([(page, recent, "Story one")]), "application/xml")
    site.add("/robots.txt", f"User-agent: *\nAllow: /\nSitemap: {site.url('/maps/news.xml')}\n",
             "text/plain")  # fmt: skip
    site.add("/feed", "<html><body>not a feed</body></html>")  # a common path that is a page
    home = site.add(
        "/",
        "<html><head><title>Home</title>"
        '<link rel="alternate" type="application/rss+xml" title="News" href="/news/rss">'
        '<link rel="alternate" type="text/html" href="/other-page">'
        "</head><body><p>Welcome</p></body></html>",
    )
    env = {"NEWSWIRE_REDIS_URL": settings.redis_url,
           "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port}  # fmt: skip

    shown = newswire("feeds", "discover", home, "--add", "--json", env=env)

    assert shown.returncode == 0, shown.stderr
    found = {f["url"]: f for f in json.loads(shown.stdout)}
    assert set(found) == {rss, site.url("/feed.json"), site.url("/maps/news.xml")}
    assert (found[rss]["kind"], found[rss]["items"], found[rss]["via"]) == (
        "rss20",
        1,
        "alternate link",
    )
    assert (found[site.url("/feed.json")]["kind"], found[site.url("/feed.json")]["items"]) == (
        "json11",
        2,
    )
    assert found[site.url("/maps/news.xml")]["via"] == "robots.txt"
    assert all(f["added"] for f in found.values())
    assert {f.url for f in Registry(redis_client).all()} == set(found)

    table = newswire("feeds", "discover", site.url("/s/1"), env=env)
    assert table.returncode == 0 and "json11" in table.stdout and "KIND" in table.stdout

    nothing = newswire("feeds", "discover", site.url("/missing-page"), env=env)
    assert nothing.returncode == 5 and "cannot read" in nothing.stderr


def test_broken_sources_over_http_are_recorded(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    page = site.add("/s/kept", article_page("Kept story", paragraphs("Kept")))
    invalid = site.add("/broken.json", b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
                       "application/feed+json")  # fmt: skip
    recent = NOW - timedelta(hours=1)
    urls = [(page, recent, None)] + [(site.url(f"/s/x{n}"), recent, None) for n in range(300)]
    whole = gzip.compress(urlset(urls).encode())
    cut = site.add("/cut.xml.gz", whole[: len(whole) // 2], "application/gzip")

    broken, truncated = ingest(settings, invalid, cut)

    assert broken.error is not None and "invalid JSON Feed" in broken.error
    assert truncated.error is None and truncated.salvaged is not None
    assert "truncated gzip" in truncated.salvaged
    assert truncated.counts[Outcome.NEW] >= 1
    assert page in {a.canonical_url for a in stream(redis_client)}
    # The sitemap's URLs that 404 have no text to fall back on: recorded, not published empty.
    assert truncated.counts[Outcome.REJECTED] >= 1 and truncated.counts[Outcome.FELL_BACK] == 0
    assert all(a.body for a in stream(redis_client))
    rejected = [json.loads(f[b"data"]) for _id, f in redis_client.xrange("newswire:rejected")]
    assert rejected and all("no text of its own" in r["reason"] for r in rejected)


def test_unreachable_robots_txt_is_retried_by_a_worker_before_falling_back(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    site.add("/robots.txt", "down", "text/plain", status=503)
    feed, _pages = robots_feed(site)
    runtime = build_runtime(settings)
    try:
        _result, parsed = runtime.pipeline.fetch_feed(feed)
        assert parsed is not None
        entry = parsed.entries[0]
        with pytest.raises(TransientFetch, match="unreachable"):
            runtime.pipeline.process_entry(entry, final_attempt=False)
        last = runtime.pipeline.process_entry(entry, final_attempt=True)
    finally:
        runtime.close()
    assert last.outcome is Outcome.FELL_BACK and "robots.txt" in (last.reason or "")
    assert "/open/story" not in site.paths_hit()
