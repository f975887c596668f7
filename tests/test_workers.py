"""Real Celery worker processes and schedulers against a real Redis: once, politely, durably."""

import itertools
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import redis
from newswire.services.polling.registry import Registry

from tests.support.fleet import (
    STREAM,
    articles,
    assert_exactly_once,
    news_network,
    queues_empty,
    register,
    start_busy,
)
from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.processes import Processes, stack_env, wait_for
from tests.support.redis_server import RedisServer
from tests.support.site import Route, Site


def test_two_workers_one_scheduler_every_story_once(
    procs: Processes, redis_client: redis.Redis, site: Site
) -> None:
    feeds, distinct = news_network(site, stories=30, feeds=20, per_feed=5)
    register(redis_client, feeds, interval=600)
    procs.worker("w1")
    procs.worker("w2")
    procs.scheduler()

    wait_for(lambda: redis_client.xlen(STREAM) >= len(distinct), 90, "all stories on the stream")
    wait_for(lambda: queues_empty(redis_client), 30, "queues to drain")

    assert_exactly_once(redis_client, distinct)
    polled = [h.path for h in site.hits if h.path.startswith("/feed/")]
    assert sorted(Counter(polled).values()) == [1] * 20, "each feed polled once in its interval"


def test_repolls_are_conditional(procs: Processes, redis_client: redis.Redis, site: Site) -> None:
    site.add("/a.html", article_page("Alpha", paragraphs("Alpha")))
    body = rss2([item(site.url("/a.html"), "Alpha")]).encode()

    def feed(headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if headers.get("if-none-match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return (
            200,
            {
                "Content-Type": "application/rss+xml",
                "ETag": '"v1"',
                "Last-Modified": "Fri, 20 Nov 2026 10:00:00 GMT",
            },
            body,
        )

    site.routes["/etag.xml"] = Route(dynamic=feed)
    registry = register(redis_client, [site.url("/etag.xml")], interval=1)
    procs.worker("w1")
    procs.scheduler()

    polls = lambda: [h for h in site.hits if h.path == "/etag.xml"]  # noqa: E731
    wait_for(lambda: len(polls()) >= 3, 30, "three polls")

    first, *later = polls()
    assert "if-none-match" not in first.headers
    assert all(h.headers.get("if-none-match") == '"v1"' for h in later)
    assert all(h.headers.get("if-modified-since") == "Fri, 20 Nov 2026 10:00:00 GMT" for h in later)
    state = registry.get(site.url("/etag.xml"))
    assert state is not None and state.etag == '"v1"'
    wait_for(lambda: state_status(registry, site.url("/etag.xml")) == "304", 10, "a 304 recorded")
    assert redis_client.xlen(STREAM) == 1


def state_status(registry: Registry, url: str) -> str | None:
    state = registry.get(url)
    return state.last_status if state else None


def test_429_with_retry_after_is_asked_once(
    procs: Processes, redis_client: redis.Redis, site: Site
) -> None:
    site.routes["/busy.xml"] = Route(status=429, headers={"Retry-After": "3600"})
    site.add("/ok.xml", rss2([]), "application/rss+xml")
    registry = register(redis_client, [site.url("/busy.xml"), site.url("/ok.xml")], interval=1)
    procs.worker("w1")
    procs.scheduler()

    # The healthy feed on the same site keeps its 1 s rhythm meanwhile: a clock for the test.
    wait_for(lambda: site.paths_hit().count("/ok.xml") >= 5, 30, "five polls of the healthy feed")

    assert site.paths_hit().count("/busy.xml") == 1
    state = registry.get(site.url("/busy.xml"))
    assert state is not None and state.last_status == "HTTP 429" and state.error_count == 1
    assert state.backoff_until is not None and state.next_due >= (state.last_polled or 0) + 3599


def test_two_schedulers_poll_each_feed_once_per_interval(
    procs: Processes, redis_client: redis.Redis, site: Site
) -> None:
    urls = [site.add(f"/f{n}.xml", rss2([]), "application/rss+xml") for n in range(5)]
    register(redis_client, urls, interval=2)
    procs.worker("w1")
    first = procs.scheduler("beat1")
    procs.scheduler("beat2")

    wait_for(lambda: site.paths_hit().count("/f0.xml") >= 4, 40, "four rounds of polls")
    counts = Counter(p for p in site.paths_hit() if p.startswith("/f"))
    # Four rounds at 2 s intervals took >= 6 s; twice-polled feeds would show up as 7-8 hits.
    assert max(counts.values()) - min(counts.values()) <= 1
    hits_before = site.paths_hit().count("/f0.xml")
    gaps = intervals(site, "/f0.xml")
    assert min(gaps) > 1.5, f"a feed was polled twice within its interval: {gaps}"

    procs.kill(first)  # whichever was active, polling goes on
    wait_for(
        lambda: site.paths_hit().count("/f0.xml") >= hits_before + 3,
        40,
        "polls after losing a scheduler",
    )
    assert min(intervals(site, "/f0.xml")) > 1.5


def intervals(site: Site, path: str) -> list[float]:
    times = [h.at for h in site.hits if h.path == path]
    return [b - a for a, b in itertools.pairwise(times)]


def test_redis_killed_and_restarted_nothing_lost_or_doubled(site: Site, tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    client = redis.Redis.from_url(server.url)
    procs = Processes(stack_env(server.url, site), tmp_path)
    try:
        distinct = start_busy(procs, client, site, stories=24, per_feed=6)
        server.kill()
        server.start()  # same port, same append-only file

        wait_for(lambda: client.xlen(STREAM) >= len(distinct), 120, "all stories after the restart")
        wait_for(lambda: queues_empty(client), 60, "queues to drain")
        assert_exactly_once(client, distinct)
    except AssertionError:
        print(procs.logs())
        raise
    finally:
        procs.stop_all()
        client.close()
        server.stop()


def test_scheduler_imports_feeds_file_and_polls_it(
    procs: Processes, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> None:
    site.add("/s.html", article_page("From the file", paragraphs("File")))
    feed = site.add(
        "/file.xml", rss2([item(site.url("/s.html"), "From the file")]), "application/rss+xml"
    )
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(f"- url: {feed}\n  interval: 3600\n")
    procs.worker("w1")
    procs.scheduler(NEWSWIRE_FEEDS_FILE=str(feeds_file))

    wait_for(lambda: redis_client.xlen(STREAM) == 1, 30, "the story of the imported feed")
    [state] = Registry(redis_client).all()
    assert state.url == feed and state.interval == 3600


def test_dripping_page_falls_back_in_a_worker(
    procs: Processes, redis_client: redis.Redis, site: Site
) -> None:
    """A server dripping one byte a second never trips the read timeout; the clock deadline
    ends the fetch, the story is published from the feed's text (no retries configured here),
    and nothing stays pending."""

    def drip() -> Iterator[bytes]:
        yield b"<html><body><p>"
        while True:
            time.sleep(1)
            yield b"x"

    site.routes["/drip.html"] = Route(body=drip, headers={"Content-Type": "text/html"})
    feed = site.add(
        "/drip.xml",
        rss2([item(site.url("/drip.html"), "Drip", summary="The feed's own text.")]),
        "application/rss+xml",
    )
    register(redis_client, [feed], interval=600)
    procs._start("w1", "worker", "-n", "w1@%h", env={"NEWSWIRE_ENTRY_RETRIES": "0"})
    procs.scheduler()
    wait_for(lambda: redis_client.xlen(STREAM) == 1, 60, "the story from the feed's text")
    [article] = articles(redis_client)
    assert article.extraction == "feed_summary"
    assert article.extraction_error == "page unavailable: deadline exceeded"
    wait_for(lambda: redis_client.zcard("newswire:pending:due") == 0, 10, "the entry settled")
