"""No stream entry outgrows NEWSWIRE_STREAM_ENTRY_MAX_BYTES: every Article and rejected-link
field is capped, each cut recorded on the Article. Each run is a `newswire` child process (the
megabytes it parses stay out of the test process, whose peak memory other tests measure)."""

import json

import redis
from newswire.services.settings import Settings

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import stream
from tests.support.processes import newswire
from tests.support.site import Site

MB = 1_000_000


def biggest_entry(client: redis.Redis, name: str) -> int:
    return max(sum(len(k) + len(v) for k, v in f.items()) for _i, f in client.xrange(name))


def run(settings: Settings, site: Site, feed: str, feed_text: bool = False) -> None:
    env = {
        "NEWSWIRE_REDIS_URL": settings.redis_url,
        "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port,
        "NEWSWIRE_FETCH_MAX_BYTES": str(settings.fetch_max_bytes),
        "NEWSWIRE_STREAM_ENTRY_MAX_BYTES": str(settings.stream_entry_max_bytes),
    }
    if feed_text:  # a registered feed's options apply to `ingest`
        assert newswire("feeds", "add", feed, "--feed-text", env=env).returncode == 0
    done = newswire("ingest", "--json", feed, env=env)
    assert done.returncode == 0 and json.loads(done.stdout)["error"] is None, done.stderr


def test_huge_feed_fields_are_cut_to_fit(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    settings = settings.model_copy(update={"fetch_max_bytes": 20 * MB})
    link = site.url("/news/a")
    rss = rss2([item(link, "A", "Feed text.") | {"guid": "g" * 4 * MB}]).replace(
        "</item>", f'<media:content url="https://img.example/{"i" * 4 * MB}.jpg" medium="image"/>'
        "</item>").replace('<rss version="2.0">',
                           '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">')  # fmt: skip
    feed = site.add("/rss.xml", rss, "application/rss+xml")
    json_feed = json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "items": [{
            "id": "b", "url": site.url("/news/b"), "content_text": "Feed text of b.",
            "image": "https://img.example/" + "j" * 3 * MB, "language": "x" * 3 * MB,
        }],
    })  # fmt: skip
    jf = site.add("/feed.json", json_feed, "application/feed+json")

    run(settings, site, feed, feed_text=True)
    run(settings, site, jf, feed_text=True)

    assert biggest_entry(redis_client, "newswire:articles") <= settings.stream_entry_max_bytes
    a, b = stream(redis_client)
    assert a.guid is not None and len(a.guid) == 2048 and a.image is None
    assert any(cut.startswith("guid cut from") for cut in a.truncated)
    assert any(cut.startswith("image dropped") for cut in a.truncated)
    assert b.image is None and b.language in (None, "en")
    assert any(cut.startswith("image dropped") for cut in b.truncated), b.truncated
    metrics = {k.decode(): int(v) for k, v in redis_client.hgetall("newswire:metrics").items()}
    assert metrics.get("field_cuts|field=guid") == 1 and metrics.get("field_cuts|field=image") == 2


def test_a_huge_page_body_is_cut_to_the_entry_limit(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    settings = settings.model_copy(
        update={"fetch_max_bytes": 20 * MB, "stream_entry_max_bytes": 200_000}
    )
    body = paragraphs("Huge", 2000)  # ~800 KB of text
    page = site.add("/news/huge", article_page("Huge", body))
    feed = site.add("/rss.xml", rss2([item(page, "Huge")]), "application/rss+xml")

    run(settings, site, feed)

    [article] = stream(redis_client)
    assert article.extraction == "full"
    assert biggest_entry(redis_client, "newswire:articles") <= 200_000
    assert len(article.body) < 200_000 and article.word_count == len(article.body.split())
    assert any("body cut from" in cut for cut in article.truncated), article.truncated


def test_a_huge_sitemap_loc_puts_a_small_rejected_entry(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    settings = settings.model_copy(update={"fetch_max_bytes": 20 * MB})
    loc = site.url("/news/") + "x" * 9 * MB
    sitemap = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{loc}</loc><lastmod>2099-01-01</lastmod></url></urlset>"
    )
    feed = site.add("/sitemap.xml", sitemap, "application/xml")

    run(settings, site, feed)

    [(_id, fields)] = redis_client.xrange("newswire:rejected")
    assert sum(len(v) for v in fields.values()) < 30_000
    record = json.loads(fields[b"data"])
    assert record["link"] == loc[:8192] and "longer than 8192" in record["reason"]
