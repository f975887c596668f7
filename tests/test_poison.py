"""A page that kills its worker every time (the kernel's OOM killer, a hard time limit) does
not come back forever, and holds up no other story: after MAX_HANDED_OUT hand-outs its
batch goes apart, and alone it is published from the feed's own text."""

import os
import signal
from pathlib import Path

import redis
from newswire.services.metrics import Metrics
from newswire.services.polling.registry import Registry
from newswire.services.settings import Settings
from newswire.workers.celery_app import make_app
from newswire.workers.tasks import MAX_HANDED_OUT

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import stream
from tests.support.processes import (
    DEFAULT_TIMING,
    Processes,
    pool_children,
    stack_env,
    wait_for,
)
from tests.support.redis_server import RedisServer
from tests.support.site import Route, Site


def test_a_page_that_kills_its_worker_is_published_from_the_feed_and_holds_up_no_other(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> None:
    procs = Processes(stack_env(redis_server.url, site, **DEFAULT_TIMING), tmp_path)
    worker = procs.worker("w1", concurrency=1)
    page = article_page("Fine story", paragraphs("fine"))

    def kill_the_fetcher(_headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        # What the page does to whoever fetches it: its worker process dies (SIGKILL, as from
        # the OOM killer); the one pool process of the worker is the one fetching.
        for child in pool_children(worker.pid):
            os.kill(child, signal.SIGKILL)
        return 200, {"Content-Type": "text/html"}, page.encode()

    site.routes["/poison"] = Route(dynamic=kill_the_fetcher)
    links = [
        site.add(f"/fine{n}", article_page(f"Fine {n}", paragraphs(f"fine {n}"))) for n in range(2)
    ]
    items = [item(site.url("/poison"), "Poison story", "The feed's own words on it.")]
    items += [item(link, f"Fine {n}") for n, link in enumerate(links)]
    Registry(redis_client).add(site.add("/feed.xml", rss2(items), "application/rss+xml"), 3600)
    try:
        procs.scheduler()
        wait_for(lambda: len(stream(redis_client)) == 3, 150, "all three stories")
        by_title = {a.title: a for a in stream(redis_client)}
        poison = by_title["Poison story"]
        assert poison.extraction == "feed_summary" and "feed's own words" in poison.body
        assert f"handed out {MAX_HANDED_OUT + 1} times" in (poison.extraction_error or "")
        assert by_title["Fine 0"].extraction == by_title["Fine 1"].extraction == "full"
        # Fetched in the batch until it went apart, then alone until given up: no more.
        assert site.paths_hit().count("/poison") == 2 * MAX_HANDED_OUT
        assert worker.poll() is None, "the worker itself died"
        assert redis_client.zcard("newswire:pending:due") == 0  # every entry settled
        counts = Metrics(redis_client).read()
        assert counts["tasks_given_up|what=batch"] == counts["tasks_given_up|what=entry"] == 1
    except AssertionError:
        print(procs.logs())
        raise
    finally:
        procs.stop_all()


def test_a_task_past_the_hard_time_limit_is_given_back_to_be_counted() -> None:
    """A task the hard time limit stopped comes back marked redelivered (and so is counted
    like one whose worker died), instead of being acked and left to the pending ledger's
    ten-minute sweep, again and again."""
    app = make_app(Settings())
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.task_acks_on_timeout is False
