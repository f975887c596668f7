"""Batched polls: the scheduler hands a worker several due feeds in one task, fetched at once;
each feed's outcome stays its own."""

from pathlib import Path

import redis
from newswire.schemas.feed import FeedOptions
from newswire.services.polling.registry import Registry

from tests.support.pages import item, rss2
from tests.support.pipeline import stream
from tests.support.processes import Processes, stack_env, wait_for
from tests.support.redis_server import RedisServer
from tests.support.site import Site

SLOW = 1.5  # seconds each slow server takes to answer


def test_a_batch_fetches_its_feeds_at_once_and_keeps_their_outcomes_apart(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> None:
    """Four slow feeds polled by one worker process are asked within a moment of each other
    (one after the other would take 4 x 1.5 s); a broken feed in the same batch records its
    own error, and the others' stories arrive."""
    registry = Registry(redis_client)
    for n in range(4):
        body = rss2([item(site.url(f"/s{n}"), f"Story {n}", f"Summary of story {n}.")])
        url = site.add(f"/slow{n}.xml", body, "application/rss+xml", delay=SLOW)
        registry.add(url, 3600, options=FeedOptions(fetch_pages=False))
    broken = site.add("/broken.xml", "oops", "text/plain", status=500)
    registry.add(broken, 3600)
    # One process, so every poll of the batch runs in the same task.
    procs = Processes(stack_env(redis_server.url, site), tmp_path)
    try:
        procs.worker("w1", concurrency=1)
        procs.scheduler()
        wait_for(lambda: len(stream(redis_client)) == 4, 30, "the four stories")
        asked = [h.at for h in site.hits if h.path.startswith("/slow")]
        assert len(asked) == 4
        assert max(asked) - min(asked) < SLOW / 2, asked  # concurrent, not one by one
        state = registry.get(broken)
        assert state is not None and state.last_error_kind == "http_5xx"
        assert state.error_count == 1
        for n in range(4):
            ok = registry.get(site.url(f"/slow{n}.xml"))
            assert ok is not None and ok.last_status == "200" and ok.error_count == 0
    finally:
        procs.stop_all()
        print(procs.logs())
