"""Nothing late after a Redis restart: a task the broker lost (taken off its queue, not yet
unacked) is enqueued again within seconds of the restart, on the default ten-minute ledger
deadline; and a large backlog waiting in the queue is never enqueued twice."""

import json
import time
from pathlib import Path

import redis
from newswire.schemas.feed import FeedEntry, FeedOptions
from newswire.services import keys
from newswire.services.polling.pending import PendingLedger, entry_key
from newswire.services.polling.registry import Registry
from newswire.services.polling.schedule import DueQueue
from newswire.services.settings import Settings
from newswire.workers.celery_app import ENTRIES_TASK, POLL_BATCH_TASK, make_app
from newswire.workers.reconcile import Reconciler, task_entry_keys

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import stream
from tests.support.processes import DEFAULT_TIMING, Processes, stack_env, wait_for
from tests.support.redis_server import RedisServer
from tests.support.site import Site


def entries(n: int) -> list[FeedEntry]:
    return [FeedEntry(feed_url="https://slow.example/rss", link=f"https://slow.example/{k}",
                      title=f"Story {k}") for k in range(n)]  # fmt: skip


def test_a_large_backlog_is_not_enqueued_twice_and_the_lost_are_found(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    """10,000 entries waiting behind a slow host, in batches of 8 as polls send them: the
    reconciliation finds exactly the 24 entries of the three batches the broker lost (and the
    batch a worker holds unacked is not lost), twice in a row."""
    settings = Settings(redis_url=redis_server.url)
    app = make_app(settings)
    pending = PendingLedger(redis_client, "newswire", 600.0)
    backlog = entries(10_000)
    now = time.time()
    pending.add(backlog, now - 60)
    with app.producer_or_acquire() as producer:
        for start in range(0, len(backlog), 8):
            batch = [e.model_dump(mode="json") for e in backlog[start : start + 8]]
            app.send_task(ENTRIES_TASK, args=[batch, now - 60], queue=keys.ARTICLES_QUEUE,
                          producer=producer)  # fmt: skip
    assert redis_client.llen(keys.ARTICLES_QUEUE) == 1250
    taken = [redis_client.rpop(keys.ARTICLES_QUEUE) for _ in range(4)]  # the next four to run
    # One is being worked on (kombu's unacked hash), three were lost in a crash.
    redis_client.hset("unacked", "tag-1", json.dumps([json.loads(taken[0]), "", "articles"]))
    lost = {k for raw in taken[1:] for k in task_entry_keys(json.loads(raw))}
    assert len(lost) == 24
    reconciler = Reconciler(redis_client, "newswire", pending, Registry(redis_client))
    again = reconciler.reconcile(app, now)
    assert again == 24
    assert redis_client.llen(keys.ARTICLES_QUEUE) == 1250 - 4 + 24
    requeued = {
        k
        for m in redis_client.lrange(keys.ARTICLES_QUEUE, 0, 23)
        for k in task_entry_keys(json.loads(m))
    }
    assert requeued == lost
    assert reconciler.reconcile(app, now) == 0  # nothing doubled on a second look
    assert redis_client.llen(keys.ARTICLES_QUEUE) == 1250 - 4 + 24


def test_a_task_lost_in_a_redis_crash_arrives_within_seconds_on_default_settings(
    site: Site, tmp_path: Path
) -> None:
    """A poll's entry tasks sit in the queue; one is taken off it and never recorded (what a
    Redis crash between BRPOP and the unacked write does), then Redis is SIGKILLed and
    restarted. On default settings (the ledger's deadline is ten minutes), the lost stories
    still reach the stream within seconds of the restart."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    client = redis.Redis.from_url(server.url)
    links = [site.add(f"/lost/{n}", article_page(f"Story {n}", paragraphs(f"lost {n}")))
             for n in range(3)]  # fmt: skip
    feed = site.add("/lost.xml", rss2([item(u, f"Story {n}") for n, u in enumerate(links)]),
                    "application/rss+xml")  # fmt: skip
    Registry(client).add(feed, 3600, options=FeedOptions())
    env = stack_env(server.url, site, **DEFAULT_TIMING)
    procs = Processes(env, tmp_path)
    try:
        poller = procs._start("poller", "worker", "-n", "poller@%h", "-Q", "feeds")
        procs.scheduler()
        # The poll's three entries travel as one batch task (NEWSWIRE_ENTRY_BATCH, 8).
        wait_for(lambda: client.llen(keys.ARTICLES_QUEUE) == 1, 30, "the batch task queued")
        time.sleep(11)  # older than the reconciliation's grace
        taken = client.rpop(keys.ARTICLES_QUEUE)  # taken, never recorded
        assert taken is not None and len(task_entry_keys(json.loads(taken))) == 3
        server.kill()
        server.start()
        restarted = time.monotonic()
        procs.kill(poller)
        procs.worker("w1")
        wait_for(lambda: len(stream(client)) == 3, 120, "every story, the lost one too")
        assert time.monotonic() - restarted < 60
        assert sorted(a.title for a in stream(client)) == ["Story 0", "Story 1", "Story 2"]
    finally:
        procs.stop_all()
        print(procs.logs())
        client.close()
        server.stop()


def test_feeds_whose_polls_were_lost_are_due_at_once(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    """Three feeds claimed for polling; only one's poll task is still queued after the
    restart. The other two are due at once, not when their claims run out; a feed merely
    scheduled ahead is left alone."""
    settings = Settings(redis_url=redis_server.url)
    app = make_app(settings)
    registry = Registry(redis_client)
    now = time.time()
    claimed = [registry.add(f"https://news{n}.example/rss", 600, now=now - 1).id for n in range(3)]
    later = registry.add("https://later.example/rss", 600, now=now)
    registry.save(later.model_copy(update={"next_due": now + 300}))
    due = DueQueue(redis_client, registry.due_key, keys.scheduler_leader("newswire"))
    assert sorted(due.claim(now, 10, 120)) == sorted(claimed)
    app.send_task(POLL_BATCH_TASK, args=[[claimed[0]]], queue=keys.FEEDS_QUEUE)
    redis_client.lpush(keys.FEEDS_QUEUE, b"{not a message")  # unreadable: passed over
    redis_client.hset("unacked", "odd", b"[1]")
    reconciler = Reconciler(redis_client, "newswire", PendingLedger(redis_client, "newswire", 600.0),
                            registry)  # fmt: skip
    reconciler.reconcile(app, now + 1)
    scores = {fid: redis_client.zscore(registry.due_key, fid) for fid in [*claimed, later.id]}
    assert scores[claimed[0]] == now + 120  # its poll is still queued: the claim stands
    assert scores[claimed[1]] == scores[claimed[2]] == now + 1  # lost: due at once
    assert scores[later.id] == now + 300


def test_a_worker_killed_mid_story_on_default_settings_is_late_by_under_two_minutes(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> None:
    """A worker SIGKILLed while it fetches a slow page: on default settings (a 50 s visibility
    timeout, swept every 5 s) a new worker publishes the story within 120 s of the kill."""
    page = site.add("/slow-story", article_page("Slow story", paragraphs("slow")), delay=4.0)
    feed = site.add("/slow.xml", rss2([item(page, "Slow story")]), "application/rss+xml")
    Registry(redis_client).add(feed, 3600)
    procs = Processes(stack_env(redis_server.url, site, **DEFAULT_TIMING), tmp_path)
    try:
        first = procs.worker("w1")
        procs.scheduler()
        wait_for(lambda: any(h.path == "/slow-story" for h in site.hits), 30, "the page fetch")
        procs.kill(first)
        killed = time.monotonic()
        procs.worker("w2")
        wait_for(lambda: len(stream(redis_client)) == 1, 120, "the story after the kill")
        assert time.monotonic() - killed < 120
        assert [a.title for a in stream(redis_client)] == ["Slow story"]
    finally:
        procs.stop_all()
        print(procs.logs())


def test_a_worker_that_stops_consuming_triggers_the_look_for_lost_tasks(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    """A worker dies between taking a task off the queue and recording it unacked (a wedged
    consumer, a kill): Redis did not restart, but its heartbeat says it stopped consuming, so
    the scheduler looks two seconds later and enqueues the lost entries again, not after the
    ledger's ten minutes. A worker merely consuming on does not trigger it."""
    app = make_app(Settings(redis_url=redis_server.url))
    pending = PendingLedger(redis_client, "newswire", 600.0)
    now = time.time()
    lost = entries(8)
    pending.add(lost, now - 60)  # handed on a minute ago; its batch message is gone
    reconciler = Reconciler(redis_client, "newswire", pending, Registry(redis_client))

    def beat(state: str, at: float, started: float = 1000.0) -> None:
        redis_client.hset("newswire:workers", "w1@host", json.dumps(
            {"name": "w1@host", "state": state, "last_heartbeat": at, "started_at": started}))  # fmt: skip

    beat("online", now)
    assert reconciler.tick(app, now) == 0
    beat("online", now + 1)
    assert reconciler.tick(app, now + 1) == 0 and reconciler.look_at is None
    beat("stalled", now + 2)  # the watchdog's verdict, from its heartbeat
    assert reconciler.tick(app, now + 2) == 0 and reconciler.look_at == now + 4
    assert reconciler.tick(app, now + 4.5) == 8
    found = {k for m in redis_client.lrange(keys.ARTICLES_QUEUE, 0, -1)
             for k in task_entry_keys(json.loads(m))}  # fmt: skip
    assert found == {entry_key(e) for e in lost}
    beat("online", now + 20, started=2000.0)  # restarted: a new worker, nothing more lost
    reconciler.tick(app, now + 20)
    assert reconciler.tick(app, now + 30) == 0  # held in the queue now: not doubled
