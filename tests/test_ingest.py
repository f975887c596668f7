"""End to end in one process: real feeds and pages over loopback HTTP, a real redis-server."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from newswire.schemas.article import Article
from newswire.services.ingest.outcomes import Outcome
from newswire.services.settings import Settings

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import ingest, stream
from tests.support.site import Route, Site


def rejected(client: redis.Redis) -> list[dict[str, str]]:
    return [json.loads(f[b"data"]) for _id, f in client.xrange("newswire:rejected")]


def by_title(articles: list[Article]) -> dict[str, Article]:
    return {a.title: a for a in articles}


def test_rss2_page_with_byline_timestamp_and_lang(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    paras = paragraphs("Transit plan", 6)
    page = site.add("/news/transit.html", article_page("Council backs transit plan", paras))
    feed = site.add(
        "/rss.xml",
        rss2([item(page + "?utm_source=rss", "Council backs transit plan")]),
        "application/rss+xml",
    )

    [report] = ingest(settings, feed)

    assert report.counts[Outcome.NEW] == 1, report.line()
    [article] = stream(redis_client)
    assert article.extraction == "full"
    assert article.authors == ["Jane Reporter"]
    # 14:35:07+01:00 on the page beats the feed's date: to the second, in UTC.
    assert article.published_at == datetime(2026, 11, 20, 13, 35, 7, tzinfo=UTC)
    assert article.language == "en"
    assert article.source == "The Daily Fixture"
    assert article.canonical_url == page  # tracking parameter gone
    for para in paras:
        assert para in article.body
    assert "\n\n" in article.body  # paragraphs separated by blank lines
    for junk in (
        "Subscribe now",
        "ADVERTISEMENT",
        "Related articles",
        "Unrelated story",
        "All rights reserved",
    ):
        assert junk not in article.body
    assert article.word_count == len(article.body.split())


def test_atom_and_rss1_and_relative_links_under_xml_base(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    site.add("/atom/posts/one.html", article_page("Atom story one", paragraphs("Atom one")))
    site.add("/rdf/two.html", article_page("RDF story two", paragraphs("RDF two")))
    atom = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{site.base}/atom/">
  <title>Atom fixture</title><id>urn:x</id><updated>2026-11-20T10:00:00Z</updated>
  <entry><title>Atom story one</title><id>urn:one</id>
    <link rel="alternate" href="posts/one.html"/>
    <updated>2026-11-20T10:00:00Z</updated><summary>First atom summary</summary></entry>
</feed>"""
    rdf = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="/rdf/"><title>RDF fixture</title><link>/rdf/</link><description>d</description>
    <items><rdf:Seq><rdf:li rdf:resource="/rdf/two.html"/></rdf:Seq></items></channel>
  <item rdf:about="/rdf/two.html"><title>RDF story two</title><link>/rdf/two.html</link>
    <dc:date>2026-11-19T08:00:00Z</dc:date></item>
</rdf:RDF>"""
    feeds = [
        site.add("/atom.xml", atom, "application/atom+xml"),
        site.add("/rdf.xml", rdf, "application/rdf+xml"),
    ]

    reports = ingest(settings, *feeds)

    assert [r.counts[Outcome.NEW] for r in reports] == [1, 1], [r.line() for r in reports]
    articles = by_title(stream(redis_client))
    assert articles["Atom story one"].url == site.url("/atom/posts/one.html")  # xml:base applied
    assert articles["RDF story two"].url == site.url("/rdf/two.html")  # relative to the feed URL
    assert articles["RDF story two"].published_at == datetime(2026, 11, 20, 13, 35, 7, tzinfo=UTC)
    assert "Atom one: paragraph 3" in articles["Atom story one"].body


def test_malformed_feed_entries_salvaged(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    site.add("/a.html", article_page("Fish & chips", paragraphs("Fish")))
    site.add("/b.html", article_page("Second story", paragraphs("Second")))
    broken = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Broken & proud</title>
<item><title>Fish & chips</title><link>{site.url("/a.html")}</link><description>Bare ampersand & <b>unclosed</description></item>
<item><title>Second story</title><link>{site.url("/b.html")}</link>
</channel></rss>"""
    [report] = ingest(settings, site.add("/broken.xml", broken, "application/rss+xml"))

    assert report.salvaged, "a malformed feed is reported as salvaged"
    assert report.counts[Outcome.NEW] == 2, report.line()
    assert set(by_title(stream(redis_client))) == {"Fish & chips", "Second story"}


def test_iso_8859_1_feed_titles_intact(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    site.add("/cafe.html", article_page("Le café du coin", paragraphs("Café")))
    body = rss2(
        [item(site.url("/cafe.html"), "Le café du coin: crème brûlée à gogo", "Déjà vu")],
        encoding="iso-8859-1",
    )
    feed = site.add("/latin1.xml", body.encode("iso-8859-1"), "application/rss+xml")

    ingest(settings, feed)

    [article] = stream(redis_client)
    assert article.title == "Le café du coin: crème brûlée à gogo"
    assert article.summary == "Déjà vu"


def test_moved_feed_and_429_feed(settings: Settings, site: Site, redis_client: redis.Redis) -> None:
    site.add("/new.html", article_page("Moved story", paragraphs("Moved")))
    new_feed = site.add(
        "/feed-new.xml", rss2([item(site.url("/new.html"), "Moved story")]), "application/rss+xml"
    )
    site.routes["/feed-old.xml"] = Route(status=301, headers={"Location": "/feed-new.xml"})
    site.routes["/busy.xml"] = Route(status=429, headers={"Retry-After": "120"})

    moved, busy = ingest(settings, site.url("/feed-old.xml"), site.url("/busy.xml"))

    assert moved.moved_to == new_feed
    assert moved.counts[Outcome.NEW] == 1
    assert busy.error_kind == "rate_limited" and busy.error == "HTTP 429"
    assert sum(busy.counts.values()) == 0
    assert len(stream(redis_client)) == 1


@pytest.fixture
def canary() -> Iterator[Site]:
    """A server on loopback that the guard does not allow: it must never see a request."""
    s = Site()
    s.add("/secret", "<p>internal admin page</p>")
    yield s
    s.close()


def test_bad_links_fall_back_or_are_rejected(
    settings: Settings, site: Site, canary: Site, redis_client: redis.Redis
) -> None:
    huge_chunk = b"<p>" + b"x" * 65536 + b"</p>"

    def endless() -> Iterator[bytes]:
        yield b"<html><body>"
        for _ in range(200 * 16):  # 200 MiB if read to the end
            yield huge_chunk

    site.routes["/huge.html"] = Route(body=endless, headers={"Content-Type": "text/html"})
    site.routes["/slow.html"] = Route(
        body=article_page("Slow", paragraphs("Slow")).encode(),
        delay=45,
        headers={"Content-Type": "text/html"},
    )
    site.add("/doc.pdf", b"%PDF-1.4 binary", "application/pdf")
    site.add("/redirect-to-private", b"", status=302, headers={"Location": canary.url("/secret")})
    items = [
        item(site.url("/missing.html"), "Missing page", "Summary of the missing page"),
        item(site.url("/doc.pdf"), "A PDF", "Summary of the PDF"),
        item(site.url("/slow.html"), "Slow page", "Summary of the slow page"),
        item(site.url("/huge.html"), "Huge page", "Summary of the huge page"),
        item("javascript:alert(document.cookie)", "Script link"),
        item(canary.url("/secret"), "Private address"),
        item("http://169.254.169.254/latest/meta-data/", "Cloud metadata"),
        item(site.url("/redirect-to-private"), "Redirect to private"),
    ]
    started = datetime.now(UTC)
    [report] = ingest(settings, site.add("/bad.xml", rss2(items), "application/rss+xml"))
    elapsed = (datetime.now(UTC) - started).total_seconds()

    assert elapsed < 30, "the 45 s page must not hold the run"
    assert report.counts[Outcome.FELL_BACK] == 4, report.line()
    assert report.counts[Outcome.REJECTED] == 4, report.line()
    articles = by_title(stream(redis_client))
    reasons = {t: a.extraction_error for t, a in articles.items()}
    assert all(a.extraction == "feed_summary" for a in articles.values())
    assert "HTTP 404" in (reasons["Missing page"] or "")
    assert "application/pdf" in (reasons["A PDF"] or "")
    assert "timeout" in (reasons["Slow page"] or "") or "deadline" in (reasons["Slow page"] or "")
    assert "too large" in (reasons["Huge page"] or "")
    assert articles["Huge page"].body == "Summary of the huge page"
    # The cap stops reading: far less than 200 MiB left the server (socket buffers aside).
    assert site.bytes_sent.get("/huge.html", 0) < 3 * settings.fetch_max_bytes + 8 * 1024 * 1024
    refused = {r["title"]: r["reason"] for r in rejected(redis_client)}
    assert set(refused) == {
        "Script link",
        "Private address",
        "Cloud metadata",
        "Redirect to private",
    }
    assert "scheme 'javascript'" in refused["Script link"]
    assert "not public" in refused["Private address"]
    assert canary.hits == [], "the guard must refuse before connecting"


def test_gzip_and_undeclared_cp1252(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    gz_paras = paragraphs("Compressed", 5)
    site.routes["/gz.html"] = Route(
        body=article_page("Gzip story", gz_paras).encode(),
        gzip=True,
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    cp_paras = [
        f"Au café, the naïve critic said “it’s fine” — paragraph {i}. {p}"
        for i, p in enumerate(paragraphs("Cp", 4))
    ]
    cp_html = article_page("Café story", cp_paras, charset=None).encode("cp1252")
    site.add("/cp1252.html", cp_html, "text/html")  # no charset anywhere
    feed = site.add(
        "/enc.xml",
        rss2(
            [item(site.url("/gz.html"), "Gzip story"), item(site.url("/cp1252.html"), "Café story")]
        ),
        "application/rss+xml",
    )

    [report] = ingest(settings, feed)

    assert report.counts[Outcome.NEW] == 2, report.line()
    articles = by_title(stream(redis_client))
    assert gz_paras[2] in articles["Gzip story"].body
    body = articles["Café story"].body
    assert "Au café, the naïve critic said “it’s fine” — paragraph 0." in body
    assert "\ufffd" not in body


def test_dedup_across_feeds_params_and_runs(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    site.add("/story.html", article_page("Shared story", paragraphs("Shared")))
    # Two stories behind one script: the same body would make them one story (content identity).
    site.add("/story.php?id=101", article_page("Story 101", paragraphs("Query 101")))
    site.add("/story.php", article_page("Story 102", paragraphs("Query 102")))
    feed_a = site.add(
        "/a.xml",
        rss2(
            [
                item(site.url("/story.html?utm_source=feed-a&utm_medium=rss"), "Shared story"),
                item(site.url("/story.php?id=101"), "Story 101"),
            ]
        ),
        "application/rss+xml",
    )
    feed_b = site.add(
        "/b.xml",
        rss2(
            [
                item(site.url("/story.html?fbclid=abc#comments"), "Shared story"),
                item(site.url("/story.php?id=102&gclid=zzz"), "Story 102"),
            ]
        ),
        "application/rss+xml",
    )

    first = ingest(settings, feed_a, feed_b)
    fetches_after_first = site.paths_hit().count("/story.html?fbclid=abc")
    second = ingest(settings, feed_a, feed_b)

    assert [r.counts[Outcome.NEW] for r in first] == [2, 1]
    assert first[1].counts[Outcome.DUPLICATE] == 1
    articles = stream(redis_client)
    assert sorted(a.canonical_url or "" for a in articles) == sorted(
        [site.url("/story.html"), site.url("/story.php?id=101"), site.url("/story.php?id=102")]
    )
    assert len({a.id for a in articles}) == 3
    assert [r.counts[Outcome.NEW] + r.counts[Outcome.FELL_BACK] for r in second] == [0, 0]
    assert [r.counts[Outcome.DUPLICATE] for r in second] == [2, 2]
    assert len(stream(redis_client)) == 3
    # A known link is not even fetched again.
    assert fetches_after_first == 0
    assert site.paths_hit().count("/story.html?fbclid=abc") == 0


def test_same_site_canonical_dedups_and_foreign_canonical_is_ignored(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    canonical = site.url("/canonical/story")
    site.add("/print/story", article_page("Print view", paragraphs("Canon"), canonical=canonical))
    site.add(
        "/amp/story", article_page("AMP view", paragraphs("Canon"), canonical="/canonical/story")
    )
    site.add(
        "/claims",
        article_page("Claimer", paragraphs("Claim"), canonical="https://other.example/story"),
    )
    feed = site.add(
        "/canon.xml",
        rss2(
            [
                item(site.url("/print/story"), "Print view"),
                item(site.url("/amp/story"), "AMP view"),
                item(site.url("/claims"), "Claimer"),
            ]
        ),
        "application/rss+xml",
    )

    [report] = ingest(settings, feed)

    assert report.counts[Outcome.NEW] == 2 and report.counts[Outcome.DUPLICATE] == 1, report.line()
    urls = {a.title: a.canonical_url for a in stream(redis_client)}
    assert urls == {"Print view": canonical, "Claimer": site.url("/claims")}


def test_entry_without_link_or_date_is_published_from_feed_text(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    body = rss2([{"title": "No link here", "description": "Only the feed knows this story."}])
    [report] = ingest(settings, site.add("/nolink.xml", body, "application/rss+xml"))

    assert report.counts[Outcome.FELL_BACK] == 1, report.line()
    [article] = stream(redis_client)
    assert article.url is None and article.published_at is None
    assert article.extraction_error == "entry has no link"
    assert article.body == "Only the feed knows this story."
    [again] = ingest(settings, site.url("/nolink.xml"))
    assert again.counts[Outcome.DUPLICATE] == 1


def test_not_a_feed_is_a_feed_error(settings: Settings, site: Site) -> None:
    [report] = ingest(settings, site.add("/page.html", "<html><body><p>hello</p></body></html>"))
    assert report.error_kind == "not_a_feed"


def test_gzip_feed_body_decoded(settings: Settings, site: Site, redis_client: redis.Redis) -> None:
    site.add("/z.html", article_page("Zipped feed story", paragraphs("Zip")))
    site.routes["/z.xml"] = Route(
        body=rss2([item(site.url("/z.html"), "Zipped feed story")]).encode(),
        gzip=True,
        headers={"Content-Type": "application/rss+xml"},
    )
    [report] = ingest(settings, site.url("/z.xml"))
    assert report.counts[Outcome.NEW] == 1, report.line()


def test_a_download_that_raises_costs_its_entry_not_the_feed(
    settings: Settings, site: Site, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug on one entry's odd input while it is fetched ahead (in a prefetch thread) is that
    entry's recorded failure; the feed's other stories go on."""
    from newswire.services.ingest.downloader import Downloader  # noqa: PLC0415

    pages = [
        site.add(f"/news/{n}.html", article_page(f"Story {n}", paragraphs(f"Story {n}", 6)))
        for n in ("a", "b", "c")
    ]
    feed = site.add(
        "/rss.xml", rss2([item(p, f"Story {p[-6]}") for p in pages]), "application/rss+xml"
    )
    real = Downloader.download

    def flaky(self: Downloader, entry: object, options: object = None) -> object:
        if str(getattr(entry, "link", "")).endswith("/b.html"):
            raise KeyError("odd input")
        return real(self, entry, options)  # type: ignore[arg-type]

    monkeypatch.setattr(Downloader, "download", flaky)
    [report] = ingest(settings, feed)
    assert report.counts[Outcome.FAILED] == 1 and report.counts[Outcome.NEW] == 2, report.line()
    [failed] = [r for r in report.results if r.outcome is Outcome.FAILED]
    assert failed.link is not None and failed.link.endswith("/b.html")
    assert failed.reason == "KeyError: 'odd input'"
    assert sorted(a.title for a in stream(redis_client)) == ["Story a", "Story c"]
