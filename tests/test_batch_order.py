"""A batch extracts its pages in the order they arrive: a slow server holds only its own entry
(in process, real Redis, real HTTP to the fixture site)."""

import time
from concurrent.futures import Future, ThreadPoolExecutor

import redis
from newswire.schemas.feed import FeedEntry
from newswire.services.ingest.batch import GATHER_AT_MOST, EntryBatch, gather
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


def _page_in(seconds: float, fetchers: ThreadPoolExecutor) -> Future[str]:
    return fetchers.submit(lambda: time.sleep(seconds) or f"in after {seconds}")


def test_pages_that_come_in_together_are_all_waited_for() -> None:
    """gather() returns once every page is in when they arrive close together."""
    with ThreadPoolExecutor(4) as fetchers:
        pages = [_page_in(s, fetchers) for s in (0.1, 0.12, 0.15, 0.18)]
        gather(pages)
        assert all(p.done() for p in pages)


def test_a_straggler_is_not_waited_for_long() -> None:
    """A page that takes far longer than the first is left to arrive on its own: the wait
    ends about as long after the first page as that one took (0.1 s here), never later than
    GATHER_AT_MOST, and extraction begins with the others."""
    with ThreadPoolExecutor(4) as fetchers:
        pages = [_page_in(s, fetchers) for s in (0.1, 0.12, 3.0)]
        started = time.monotonic()
        gather(pages)
        waited = time.monotonic() - started
        assert pages[0].done() and pages[1].done() and not pages[2].done()
        assert waited < 0.1 + GATHER_AT_MOST
