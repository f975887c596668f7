"""A batch extracts its pages in the order they arrive: a slow server holds only its own entry
(in process, real Redis, real HTTP to the fixture site)."""

from concurrent.futures import ThreadPoolExecutor

import redis
from newswire.schemas.feed import FeedEntry
from newswire.services.ingest.batch import EntryBatch
from newswire.services.settings import Settings
from newswire.workers.runtime import build_runtime

from tests.support.pages import article_page, paragraphs
from tests.support.pipeline import stream
from tests.support.site import Site

SLOW = 1.5  # seconds the first entry's page takes to answer


def test_the_pages_that_arrive_first_are_published_first(
    settings: Settings, redis_client: redis.Redis, site: Site
) -> None:
    """The batch's first entry answers after 1.5 s, the three others at once: those three
    are on the stream before the slow one, which still arrives, once."""
    entries = []
    for n, delay in enumerate([SLOW, 0.0, 0.0, 0.0]):
        link = site.add(f"/o/{n}.html", article_page(f"Story {n}", paragraphs(f"story {n}")),
                        "text/html; charset=utf-8", delay=delay)  # fmt: skip
        entries.append(FeedEntry(feed_url=site.url("/o.xml"), link=link, title=f"Story {n}"))
    runtime = build_runtime(settings)
    try:
        with ThreadPoolExecutor(4) as fetchers:
            batch = EntryBatch(client=runtime.redis, pipeline=runtime.pipeline,
                               limiter=runtime.limiter, fetchers=fetchers, guard=lambda call: call(),
                               options_of=lambda _url: None, retries=3)  # fmt: skip
            report = batch.run(entries)
    finally:
        runtime.close()
    titles = [a.title for a in stream(redis_client)]
    assert sorted(titles[:3]) == ["Story 1", "Story 2", "Story 3"], titles
    assert titles[3:] == ["Story 0"]
    assert [e.link for e, _r in report.done][-1] == entries[0].link
    assert not report.later and not report.left
