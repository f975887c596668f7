"""Hostile feeds, round 2: entity expansion is never performed, every entry field is capped
with the cut recorded, and one hostile feed never stops the others in the same run."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import redis
from newswire.schemas.article import Article
from newswire.schemas.feed import FeedEntry
from newswire.services.extract.normalize import build_article
from newswire.services.extract.page import extract
from newswire.services.sources.feeds import FeedLimits, parse_feed, without_entity_declarations
from newswire.services.sources.kinds import parse_source

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.redis_server import RedisServer
from tests.support.site import Site

MEMORY_BOUND_MIB = 400  # the whole ingest process, Python and trafilatura included
# Starts a command and prints its exit code and peak RSS (KiB). A process's peak counts the
# memory of the process that forked it, as it was at the fork: measured from the test process
# itself, whose size depends on which tests ran before it (401 MiB once, in a full run), the
# bound would measure pytest. A small Python in between forks the ingest instead.
PEAK = (
    "import os, subprocess, sys;"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
    "_pid, status, usage = os.wait4(p.pid, 0);"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)"
)


def quadratic(entity_bytes: int, references: int, link: str) -> bytes:
    """One big plain-text entity referenced many times: feedparser's 'safe' entity shape."""
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY big "' + "A" * entity_bytes + '">\n]>\n'
        '<rss version="2.0"><channel><title>Hostile</title><item><title>Boom &big;</title>'
        f"<link>{link}</link><description>" + "&big;" * references + "</description></item>"
        "</channel></rss>"
    ).encode()


@pytest.mark.parametrize("entity_bytes", [100_000, 1_000_000])
def test_quadratic_entities_are_never_expanded(
    entity_bytes: int, site: Site, redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    site.add("/boom.html", article_page("Boom", paragraphs("Boom")))
    hostile = site.add(
        "/hostile.xml", quadratic(entity_bytes, 1000, site.url("/boom.html")), "application/rss+xml"
    )
    site.add("/ok.html", article_page("Harmless", paragraphs("Harmless")))
    harmless = site.add(
        "/harmless.xml", rss2([item(site.url("/ok.html"), "Harmless")]), "application/rss+xml"
    )
    env = {"NEWSWIRE_REDIS_URL": redis_server.url, "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port}
    proc = subprocess.Popen(
        [sys.executable, "-m", "newswire.workers.cli", "ingest", "--json", hostile, harmless],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    reports = [json.loads(line) for line in out.splitlines()]
    assert "entity" in reports[0]["salvaged"]
    assert reports[1]["counts"]["new"] == 1  # the next feed in the same run
    stories = {
        a.title: a
        for a in (
            Article.model_validate_json(f[b"data"])
            for _i, f in redis_client.xrange("newswire:articles")
        )
    }
    boom = next(a for title, a in stories.items() if title.startswith("Boom"))
    assert len(boom.title) < 100 and len(boom.summary) < 10_000
    assert redis_client.info("memory")["used_memory"] < 50 * 1024 * 1024


def test_peak_memory_of_a_run_on_a_hostile_feed_is_bounded(
    site: Site, redis_server: RedisServer
) -> None:
    hostile = site.add(
        "/hostile.xml", quadratic(1_000_000, 1000, site.url("/x.html")), "application/rss+xml"
    )
    env = {"NEWSWIRE_REDIS_URL": redis_server.url, "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port}
    done = subprocess.run(
        [sys.executable, "-c", PEAK, sys.executable, "-m", "newswire.workers.cli", "ingest", hostile],
        env={**os.environ, **env}, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    code, peak_kib = (int(n) for n in done.stdout.split())
    assert code == 0
    assert peak_kib / 1024 < MEMORY_BOUND_MIB  # expanded, it took gigabytes


def test_entity_declarations_cut_whatever_their_shape() -> None:
    for doc in (
        b"<!DOCTYPE r [<!ENTITY a \"x>y\"><!ENTITY % p 'z'>]><r>&a;</r>",
        b'<!DOCTYPE r [\n<!entity a "1">\n<!ENTITY b SYSTEM "file:///etc/passwd">\n]><r>&b;</r>',
        '<!DOCTYPE r [<!ENTITY a "x">]><r>&a;</r>'.encode("utf-16"),
    ):
        cleaned, count = without_entity_declarations(doc)
        text = cleaned.decode("utf-16") if doc.startswith(b"\xff\xfe") else cleaned.decode()
        assert "ENTITY" not in text.upper() and count >= 1
        assert text.endswith(("&a;</r>", "&b;</r>"))
    plain = b"<rss><channel><description>&lt;!ENTITY in text</description></channel></rss>"
    assert without_entity_declarations(plain) == (plain, 0)


def test_every_entry_field_is_capped_and_the_cut_recorded() -> None:
    huge = "T" * 2_000_000
    items = [
        item(f"https://example.com/{n}", huge if n == 0 else f"Story {n}", summary="S" * 300)
        for n in range(30)
    ]
    xml = rss2(items).replace(
        "<item>", "<item>" + "".join(f"<category>tag{t}</category>" for t in range(80)), 1
    )
    limits = FeedLimits(entries=20, title_chars=1000, summary_chars=200, authors=5, tags=10)
    feed = parse_feed(xml.encode(), "https://example.com/rss", "application/rss+xml", limits)
    assert len(feed.entries) == 20
    first = feed.entries[0]
    assert len(first.title) == 1000 and len(first.tags) == 10
    assert all(len(e.summary) == 200 for e in feed.entries)
    assert "entries cut from 30 to 20" in feed.cuts
    assert any(
        c.startswith("title of https://example.com/0 cut from 2000000 to 1000") for c in feed.cuts
    )
    assert any(c.startswith("tags of https://example.com/0 cut from 80 to 10") for c in feed.cuts)
    assert len(feed.cuts) <= 21  # listed up to a point, then counted


@pytest.mark.parametrize("bad", ["http://[zz]/a", "http://[::1/a", "https://a]/b"])
def test_links_the_url_parser_refuses_are_dropped_not_fatal(bad: str) -> None:
    """Python's URL parser raises on a bracketed host that is no IPv6 address: such a link in
    any kind of source, or as a page's canonical or image, is dropped, never a crash."""
    now = datetime(2026, 11, 28, tzinfo=UTC)
    sources = [
        f'{{"version":"https://jsonfeed.org/version/1.1","title":"t","home_page_url":"{bad}",'
        f'"items":[{{"id":"1","url":"{bad}","image":"{bad}"}}]}}',
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{bad}</loc></url></urlset>',
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>{bad}</loc></sitemap></sitemapindex>',
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title>x</title><link href="{bad}"/><id>{bad}</id></entry></feed>',
        f'<rss version="2.0"><channel><title>t</title><item><title>x</title><link>{bad}</link></item></channel></rss>',
    ]
    for source in sources:
        feed = parse_source(source.encode(), "https://example.com/feed.xml", None, now=now)
        assert all(e.link is None for e in feed.entries) and feed.sitemaps == []
    html = (
        f'<html><head><link rel="canonical" href="{bad}"><meta property="og:image" content="{bad}">'
        '</head><body>' + "".join(f"<p>Paragraph {n} of the story, long enough.</p>" for n in range(20))
        + "</body></html>"
    )  # fmt: skip
    page = extract(html, "https://example.com/a")
    entry = FeedEntry(feed_url="https://example.com/f", link="https://example.com/a")
    article = build_article(
        entry, fetched_url="https://example.com/a", page=page, error=None, now=now
    )
    assert article.canonical_url == "https://example.com/a" and article.image is None
