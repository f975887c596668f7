"""robots.txt per RFC 9309 (500 KiB applied, IPv6 origins, every outcome cached, the feed's
proxy), and honest reports of broken archives and WARC files."""

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from newswire.schemas.feed import FeedOptions
from newswire.services.fetch.robots import origin_of
from newswire.services.ingest.archive import LocalArchive
from newswire.services.ingest.backfill import Progress, backfill_file
from newswire.services.settings import Settings
from newswire.workers.runtime import build_runtime

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import stream
from tests.support.processes import newswire
from tests.support.proxy import HttpProxy
from tests.support.site import Route, Site
from tests.support.warc import record, response, write_warc


@pytest.fixture
def proxy() -> Iterator[HttpProxy]:
    p = HttpProxy()
    yield p
    p.close()


def robots_site(site: Site, n: int = 3) -> tuple[str, list[str]]:
    pages = [site.add(f"/private/{i}", article_page(f"P {i}", paragraphs(f"P {i}")))
             for i in range(n)]  # fmt: skip
    feed = site.add("/rss.xml", rss2([item(p, f"P {i}", "Feed text.") for i, p in enumerate(pages)]),
                    "application/rss+xml")  # fmt: skip
    return feed, pages


def ingest(settings: Settings, feed: str, options: FeedOptions | None = None) -> None:
    runtime = build_runtime(settings)
    try:
        runtime.pipeline.ingest_feed(feed, options=options)
    finally:
        runtime.close()


def test_a_huge_robots_txt_applies_its_first_500_kib(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    # 3 MB: over the fetch cap (2 MB in these tests), which read as "unusable: allow all".
    rules = "User-agent: *\nDisallow: /private/\n" + "# padding\n" * 300_000
    site.add("/robots.txt", rules, "text/plain")
    feed, pages = robots_site(site, 1)

    ingest(settings, feed)

    [article] = stream(redis_client)
    assert article.extraction_error == "page unavailable: disallowed by robots.txt"
    assert pages[0] not in site.paths_hit()


def test_a_refused_robots_redirect_is_cached(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    site.routes["/robots.txt"] = Route(
        status=302, headers={"Location": "http://10.255.255.1/robots.txt"}
    )
    feed, _pages = robots_site(site, 3)

    ingest(settings, feed)

    assert site.paths_hit().count("/robots.txt") == 1
    assert len(stream(redis_client)) == 3


def test_robots_txt_goes_through_the_feeds_proxy(
    settings: Settings, site: Site, proxy: HttpProxy
) -> None:
    settings = settings.model_copy(
        update={"fetch_allow_hosts": f"{site.host_port},{proxy.url.split('//')[1]}"}
    )
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    feed, _pages = robots_site(site, 1)

    ingest(settings, feed, FeedOptions(proxy=proxy.url))

    assert site.url("/robots.txt") in [path for path, _h in proxy.requests]


def test_ipv6_origins_keep_their_brackets() -> None:
    assert origin_of("http://[::1]:8080/a") == "http://[::1]:8080"
    assert origin_of("https://[2001:db8::1]/a") == "https://[2001:db8::1]"
    assert origin_of("http://[::1]:8080/") != origin_of("http://[::1]:8081/")


def test_replay_skips_and_counts_a_cut_index_line_and_a_corrupt_page(
    settings: Settings, site: Site, redis_client: redis.Redis, tmp_path: Path
) -> None:
    archive_dir = tmp_path / "archive"
    settings = settings.model_copy(update={"archive_dir": str(archive_dir)})
    pages = [site.add(f"/n/{i}", article_page(f"A {i}", paragraphs(f"A {i}"))) for i in range(3)]
    feed = site.add("/rss.xml", rss2([item(p, f"A {i}") for i, p in enumerate(pages)]),
                    "application/rss+xml")  # fmt: skip
    ingest(settings, feed)
    [day] = [p for p in archive_dir.iterdir() if p.is_dir()]
    records = list(LocalArchive(archive_dir, 7).records())
    with (day / records[0].segment).open("r+b") as segment:  # a page's middle damaged
        segment.seek(records[0].offset + records[0].length // 2)
        segment.write(b"garbage")
    with (day / "index.jsonl").open("a") as index:
        index.write('{"entry": {"feed_url": "x", "link": "http://a/')  # what a full disk leaves

    env = {"NEWSWIRE_REDIS_URL": settings.redis_url, "NEWSWIRE_ARCHIVE_DIR": str(archive_dir),
           "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port}  # fmt: skip
    done = newswire("replay", "--json", env=env)

    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    counts = json.loads(done.stdout)["counts"]
    assert counts["unreadable page"] == 1 and counts["unreadable index line"] == 1
    assert counts["unchanged"] == 2


def test_a_plain_warc_record_longer_than_the_file_is_reported(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    good = gzip.decompress(response("https://paper.example/news/1", b"<p>x</p>"))
    liar = gzip.decompress(record("resource", "https://paper.example/a", b"abc", "text/plain"))
    liar = liar.replace(b"Content-Length: 3\r\n", b"Content-Length: 1000000000000000\r\n")
    path = write_warc(tmp_path / "plain.warc", [liar, good])
    runtime = build_runtime(settings)
    try:
        summary = backfill_file(path, runtime.pipeline, Progress(runtime.redis, "newswire"),
                                max_bytes=1_000_000)  # fmt: skip
    finally:
        runtime.close()
    assert summary.error is not None and "declares 1000000000000000 bytes" in summary.error


def test_warc_target_uri_credentials_are_not_published(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    body = article_page("Credentials", paragraphs("Credentials")).encode()
    path = write_warc(tmp_path / "a.warc.gz",
                      [response("https://user:hunter2@paper.example/news/9", body)])  # fmt: skip
    runtime = build_runtime(settings)
    try:
        backfill_file(path, runtime.pipeline, Progress(runtime.redis, "newswire"),
                      max_bytes=1_000_000)  # fmt: skip
    finally:
        runtime.close()
    [article] = stream(redis_client)
    assert article.url == "https://paper.example/news/9"
    assert "hunter2" not in json.dumps([article.model_dump(mode="json")])
