"""A news network on a fixture site, and the checks the multi-process tests share: every
story on the stream exactly once, queues drained."""

from collections import Counter

import redis
from newswire.schemas.article import Article
from newswire.services.polling.registry import Registry

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.processes import Processes, wait_for
from tests.support.site import Route, Site

STREAM = "newswire:articles"


def articles(client: redis.Redis) -> list[Article]:
    return [Article.model_validate_json(f[b"data"]) for _id, f in client.xrange(STREAM)]


def queues_empty(client: redis.Redis) -> bool:
    return client.llen("feeds") == 0 and client.llen("articles") == 0 and not client.hlen("unacked")


def news_network(
    site: Site, stories: int, feeds: int, per_feed: int, page_delay: float = 0.0
) -> tuple[list[str], set[str]]:
    """`feeds` feeds over a pool of stories, consecutive windows that overlap; odd feeds add
    tracking parameters. Returns (feed URLs, canonical URLs of every distinct story)."""
    for n in range(stories):
        site.routes[f"/story/{n}.html"] = Route(
            body=article_page(f"Story {n}", paragraphs(f"Story {n}")).encode(),
            headers={"Content-Type": "text/html; charset=utf-8"},
            delay=page_delay,
        )
    urls, distinct = [], set()
    for f in range(feeds):
        window = [(f + k) % stories for k in range(per_feed)]
        suffix = f"?utm_source=feed{f}&utm_medium=rss" if f % 2 else ""
        items = [item(site.url(f"/story/{n}.html{suffix}"), f"Story {n}") for n in window]
        urls.append(site.add(f"/feed/{f}.xml", rss2(items), "application/rss+xml"))
        distinct |= {site.url(f"/story/{n}.html") for n in window}
    return urls, distinct


def register(client: redis.Redis, urls: list[str], interval: int) -> Registry:
    registry = Registry(client)
    for url in urls:
        registry.add(url, interval)
    return registry


def start_busy(
    procs: Processes, client: redis.Redis, site: Site, stories: int, per_feed: int,
    workers: tuple[str, ...] = ("w1",), first: int = 3,
) -> set[str]:  # fmt: skip
    """Workers and the scheduler busy on 4 feeds of slow pages, `first` stories already out;
    the canonical URLs of every story."""
    feeds, distinct = news_network(site, stories, feeds=4, per_feed=per_feed, page_delay=0.3)
    register(client, feeds, interval=600)
    for name in workers:
        procs.worker(name)
    procs.scheduler()
    wait_for(lambda: client.xlen(STREAM) >= first, 60, "the first stories")
    return distinct


def assert_exactly_once(client: redis.Redis, distinct: set[str]) -> None:
    got = articles(client)
    counts = Counter(a.canonical_url for a in got)
    assert {u for u, n in counts.items() if n > 1} == set(), "doubled stories"
    assert set(counts) == distinct, f"missing: {distinct - set(counts)}"
    assert len({a.id for a in got}) == len(got) == len(distinct)


def add_fresh_feed(site: Site, client: redis.Redis, tag: str, stories: int) -> list[str]:
    """A feed registered now with `stories` new stories; their canonical URLs."""
    urls = []
    for n in range(stories):
        path = f"/fresh/{tag}/{n}.html"
        site.routes[path] = Route(
            body=article_page(f"Fresh {tag} {n}", paragraphs(f"Fresh {tag} {n}")).encode(),
            headers={"Content-Type": "text/html; charset=utf-8"},
            delay=0.2,
        )
        urls.append(site.url(path))
    feed = site.add(
        f"/fresh/{tag}.xml",
        rss2([item(u, f"Fresh {tag} {n}") for n, u in enumerate(urls)]),
        "application/rss+xml",
    )
    Registry(client).add(feed, 600)
    return urls


def on_stream(client: redis.Redis) -> set[str]:
    return {a.canonical_url for a in articles(client) if a.canonical_url}
