"""CPU cost per article by pipeline stage, measured in process over the served corpus."""

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import redis
from newswire.services.delivery.publish import Publisher
from newswire.services.extract.normalize import build_article
from newswire.services.extract.page import extract, load_language_model
from newswire.services.fetch.charset import decode_html
from newswire.services.fetch.client import Fetcher
from newswire.services.identity.urls import clean_url
from newswire.services.settings import Settings
from newswire.services.sources.feeds import parse_feed
from newswire.workers.site_server import SiteServer

from bench.corpus import Page, write_site

T = TypeVar("T")
STAGES = ("fetch", "parse", "extract", "normalize", "publish")


def stage_costs(
    pages: list[Page], site_dir: Path, client: redis.Redis, settings: Settings
) -> dict[str, float]:
    """CPU ms per article by stage. thread_time() counts this thread only, so the fixture
    server's threads (same process) are not billed to fetch."""
    server = SiteServer(site_dir)
    cpu: dict[str, float] = defaultdict(float)

    def timed(stage: str, call: Callable[[], T]) -> T:
        started = time.thread_time()
        try:
            return call()
        finally:
            cpu[stage] += time.thread_time() - started

    count = 0
    load_language_model()  # a one-time load, not a per-article cost
    try:
        feeds = write_site(pages, site_dir, server.base)
        fetcher = Fetcher(settings.model_copy(update={"fetch_allow_hosts": server.host_port}))
        publisher = Publisher(client, settings)
        for feed_url in feeds:
            raw = timed("fetch", lambda u=feed_url: fetcher.get(u))
            feed = timed(
                "parse", lambda r=raw: parse_feed(r.content, r.url, r.headers.get("content-type"))
            )
            for entry in feed.entries:
                link = entry.link or ""
                result = timed("fetch", lambda u=link: fetcher.get(u))
                page = timed(
                    "extract",
                    lambda r=result: extract(
                        decode_html(r.content, r.headers.get("content-type")), r.url
                    ),
                )
                article = timed("normalize", lambda e=entry, p=page, r=result: build_article(
                    e, fetched_url=r.url, page=p, error=None, now=datetime.now(UTC)))  # fmt: skip
                timed("publish", lambda a=article, u=link: publisher.publish(a, [clean_url(u)]))
                count += 1
        fetcher.close()
    finally:
        server.close()
    return {stage: cpu[stage] * 1000 / count for stage in STAGES}
