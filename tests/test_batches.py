"""Entries travel in batches (one task per poll's new entries): killed mid-way, split off on a
transient failure or a host's turn, and never lost or doubled (real workers, real Redis)."""

import base64
import json
from collections import Counter

import redis
from newswire.services import keys
from newswire.services.polling.pending import PendingLedger

from tests.support.fleet import STREAM, articles, assert_exactly_once, queues_empty, register
from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.processes import Processes, wait_for
from tests.support.site import Route, Site


def feed_of(site: Site, name: str, delays: list[float]) -> tuple[str, set[str]]:
    """A feed of one story per delay (its page answers after that many seconds)."""
    links = []
    for n, delay in enumerate(delays):
        path = f"/{name}/{n}.html"
        site.routes[path] = Route(
            body=article_page(f"{name} {n}", paragraphs(f"{name} {n}")).encode(),
            headers={"Content-Type": "text/html; charset=utf-8"},
            delay=delay,
        )
        links.append(site.url(path))
    feed = site.add(f"/{name}.xml", rss2([item(u, f"{name} {n}") for n, u in enumerate(links)]),
                    "application/rss+xml")  # fmt: skip
    return feed, set(links)


def page_hits(site: Site, prefix: str) -> Counter[str]:
    return Counter(h.path for h in site.hits if h.path.startswith(prefix))


def test_a_batch_killed_mid_way_loses_and_doubles_nothing(
    procs: Processes, redis_client: redis.Redis, site: Site
) -> None:
    """Eight entries of one poll in one task: the four quick pages are published, then the
    worker is SIGKILLed while the slow ones are still being fetched. The message comes back
    whole to another worker, which publishes the other four and fetches none of the first
    four again (they are known before any fetch)."""
    feed, links = feed_of(site, "b", [0.0] * 4 + [2.5] * 4)
    register(redis_client, [feed], interval=600)
    # Every page of the batch in flight at once: the quick ones do not queue behind the slow.
    victim = procs._start("victim", "worker", "-n", "victim@%h",
                          env={"NEWSWIRE_HOST_CONNECTIONS": "8"})  # fmt: skip
    procs.scheduler()
    wait_for(lambda: redis_client.xlen(STREAM) >= 4, 60, "the quick half of the batch")
    published_at_kill = redis_client.xlen(STREAM)
    procs.kill(victim)
    assert published_at_kill < 8, "the kill must land mid-batch"
    procs.worker("rescuer")

    wait_for(lambda: redis_client.xlen(STREAM) >= 8, 120, "the whole batch after the kill")
    wait_for(lambda: queues_empty(redis_client), 60, "queues to drain")
    assert_exactly_once(redis_client, links)
    quick = page_hits(site, "/b/")
    assert all(quick[f"/b/{n}.html"] == 1 for n in range(4)), quick
    assert PendingLedger(redis_client, "newswire", 600).size() == 0


def test_a_transient_failure_and_a_busy_host_are_split_off_alone(
    procs: Processes, redis_client: redis.Redis, site: Site
) -> None:
    """One page of a batch answers 503 with Retry-After: 1 once; the host allows 3 fetches at
    once. The batch publishes what it may fetch, the rest go as single tasks after their
    wait (the 503 one retried once), and every story arrives once."""
    feed, links = feed_of(site, "s", [0.0] * 6)
    calls = Counter[str]()

    def flaky(_headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        calls["s/2"] += 1
        if calls["s/2"] == 1:
            return 503, {"Retry-After": "1"}, b"busy"
        return 200, {"Content-Type": "text/html"}, article_page("s 2", paragraphs("s 2")).encode()

    site.routes["/s/2.html"] = Route(dynamic=flaky)
    register(redis_client, [feed], interval=600)
    procs._start(
        "w1", "worker", "-n", "w1@%h", env={"NEWSWIRE_HOST_BURST": "3", "NEWSWIRE_HOST_RATE": "2"}
    )
    procs.scheduler()

    wait_for(lambda: redis_client.xlen(STREAM) >= 6, 90, "every story of the split batch")
    wait_for(lambda: queues_empty(redis_client), 60, "queues to drain")
    assert_exactly_once(redis_client, links)
    assert calls["s/2"] == 2  # the 503, then the retry alone
    assert {a.extraction for a in articles(redis_client)} == {"full"}
    assert PendingLedger(redis_client, "newswire", 600).size() == 0


def test_a_poll_sends_its_new_entries_as_batches(
    procs: Processes, redis_client: redis.Redis, site: Site
) -> None:
    """20 new entries with NEWSWIRE_ENTRY_BATCH=8 travel as three tasks (8, 8, 4), read off
    the queue before any worker runs."""
    feed, _links = feed_of(site, "q", [0.0] * 20)
    register(redis_client, [feed], interval=600)
    procs.scheduler()
    poller = procs._start("poller", "worker", "-n", "poller@%h", "-Q", keys.FEEDS_QUEUE,
                          env={"NEWSWIRE_ENTRY_BATCH": "8"})  # fmt: skip
    wait_for(lambda: redis_client.llen(keys.ARTICLES_QUEUE) >= 3, 60, "the poll's tasks")
    procs.kill(poller)
    sizes = sorted(
        len(json.loads(base64.b64decode(json.loads(m)["body"]))[0][0])
        for m in redis_client.lrange(keys.ARTICLES_QUEUE, 0, -1)
    )
    assert sizes == [4, 8, 8]
