"""Riding out a Redis outage: the scheduler, `tail --follow`, a Consumer and the monitor say
so once, carry on by themselves when Redis is back, and lose nothing."""

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from celery import Task
from celery.app.trace import build_tracer
from celery.exceptions import Reject
from newswire.schemas.article import Article
from newswire.services.delivery.publish import Publisher
from newswire.services.delivery.subscribe import Consumer
from newswire.services.polling.registry import Registry
from newswire.services.settings import Settings
from newswire.workers.celery_app import make_app

from tests.support.monitor import get, start_monitor
from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import stream
from tests.support.processes import Processes, pool_children, stack_env, wait_for, worker_state
from tests.support.redis_server import RedisServer
from tests.support.site import Route, Site

OUTAGE = 8.0


def article(n: int) -> Article:
    return Article(
        id=f"{n:032x}",
        url=f"https://example.com/{n}",
        canonical_url=f"https://example.com/{n}",
        feed_url="https://example.com/rss",
        title=f"Story {n}",
        body="Body.",
        fetched_at="2026-11-28T10:00:00Z",
        word_count=1,
        content_hash="0" * 64,
        extraction="full",
    )


def test_everything_rides_out_a_redis_outage(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    settings = Settings(redis_url=server.url)
    client = redis.Redis.from_url(server.url)
    publisher = Publisher(client, settings)
    env = {"NEWSWIRE_REDIS_URL": server.url, "NEWSWIRE_SCHEDULER_TICK": "0.2"}
    procs = Processes(env, tmp_path)
    scheduler = procs.scheduler()
    with (tmp_path / "tail.out").open("wb") as out, (tmp_path / "tail.err").open("wb") as err:
        tail = subprocess.Popen(  # the child keeps its own copies of the files
            [sys.executable, "-m", "newswire.workers.cli", "tail", "--follow", "--json", "--from-start"],
            env=procs.env, stdout=out, stderr=err, start_new_session=True,
        )  # fmt: skip
    handled: list[str] = []
    stop = threading.Event()
    consumer = Consumer(client, settings.stream, "indexer", "c1", start="0", claim_idle_ms=1000)
    reader = threading.Thread(
        target=consumer.run,
        args=(lambda a: handled.append(a.id),),
        kwargs={"stop": stop.is_set, "block_ms": 200},
        daemon=True,
    )
    reader.start()
    monitor, base = start_monitor(server.url)
    try:
        ids = lambda: [  # noqa: E731
            json.loads(line)["id"] for line in (tmp_path / "tail.out").read_text().splitlines()
        ]
        publisher.publish(article(1), [])
        wait_for(lambda: handled == [f"{1:032x}"], 20, "the consumer's first story")
        wait_for(lambda: len(ids()) == 1, 60, "tail --follow printing the first story")
        wait_for(lambda: client.hget("newswire:scheduler:heartbeat", "last_tick"), 20, "a tick")

        server.kill()
        time.sleep(1.0)
        code, _headers, body = get(base + "/readyz")
        assert code == 503 and "Redis unreachable" in json.loads(body)["reasons"][0]
        time.sleep(OUTAGE)
        server.start()  # same port, same append-only file

        publisher.publish(article(2), [])  # the client reconnects by itself
        wait_for(lambda: len(handled) == 2, 30, "the consumer's story after the outage")
        before = float(client.hget("newswire:scheduler:heartbeat", "last_tick") or 0)
        wait_for(
            lambda: float(client.hget("newswire:scheduler:heartbeat", "last_tick") or 0) > before,
            20,
            "the scheduler ticking again",
        )
        wait_for(lambda: len(ids()) == 2, 30, "tail --follow printing the story after")
        assert ids() == [f"{1:032x}", f"{2:032x}"]
        assert handled == [f"{1:032x}", f"{2:032x}"]
        code, _headers, body = get(base + "/readyz")
        assert code == 503  # no worker runs here: up, but honestly not ready
        assert "Redis unreachable" not in body
        assert scheduler.poll() is None and tail.poll() is None
    finally:
        stop.set()
        reader.join(5)
        tail.terminate()
        tail.wait(10)
        procs.stop_all()
        monitor.terminate()
        monitor.wait(10)
        client.close()
        server.stop()
    # One warning when it started, one line when it ended; no traceback per tick.
    for log in (procs.log_dir / "beat.log", tmp_path / "tail.err"):
        text = log.read_text()
        assert text.count("Redis unreachable") == 1, text
        assert text.count("Redis reachable again after") == 1, text
        assert "Traceback" not in text, text


def test_a_task_that_gives_its_message_back_logs_one_line_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A task rejects its message (requeued) when Redis stays away: Celery's own tracer logs
    that as a warning naming the reason, without a traceback that reads like a crash."""
    app = make_app(Settings(redis_url="redis://127.0.0.1:1/0"))  # never connected to

    @app.task(name="tests.gives_back", bind=True)
    def gives_back(self: Task) -> None:
        raise Reject("Redis unavailable: Connection refused", requeue=True)

    trace = build_tracer(gives_back.name, gives_back, app=app)
    with caplog.at_level(logging.WARNING, logger="celery.app.trace"):
        trace("c0ffee", (), {}, {"id": "c0ffee", "hostname": "w1", "delivery_info": {}})
    rejected = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(rejected) == 1 and rejected[0].levelno == logging.WARNING
    assert rejected[0].exc_info is None and "Traceback" not in caplog.text


def test_a_worker_keeps_its_pool_processes_through_an_outage_longer_than_a_time_limit(
    site: Site, tmp_path: Path
) -> None:
    """Its tasks end during the outage while the main process reconnects; back, it fires their
    soft time limits before it reads that they ended. The idle pool processes live on."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    client = redis.Redis.from_url(server.url)
    # A soft time limit of 13 s (the fetch deadline + 10); the page's task waits out the outage
    # for 8 s of it, then gives its message back, well before Redis returns.
    procs = Processes(stack_env(server.url, site), tmp_path)
    worker = procs.worker("w1", concurrency=1)
    outage_began: list[float] = []

    def redis_dies_while_fetched(_headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if not outage_began:
            server.kill()
            outage_began.append(time.monotonic())
        return 200, {"Content-Type": "text/html"}, article_page("Slow", paragraphs("s")).encode()

    site.routes["/story"] = Route(dynamic=redis_dies_while_fetched)
    feed = site.add("/feed.xml", rss2([item(site.url("/story"), "Slow")]), "application/rss+xml")
    try:
        # Once online the worker has started its pool and runs no helper program any more.
        wait_for(lambda: worker_state(client, worker.pid) == "online", 60, "the worker online")
        wait_for(lambda: len(pool_children(worker.pid)) == 1, 60, "the worker's pool process")
        children = pool_children(worker.pid)
        Registry(client).add(feed, 3600)
        procs.scheduler()
        wait_for(lambda: bool(outage_began), 60, "the page fetched")
        time.sleep(max(0.0, outage_began[0] + 20 - time.monotonic()))  # past the soft limit
        server.start()  # same port, same append-only file
        wait_for(lambda: len(stream(client)) == 1, 120, "the story after the outage")
        time.sleep(2)  # a late soft limit arrives as soon as the main process is back
        assert pool_children(worker.pid) == children, procs.logs()
        assert "SoftTimeLimitExceeded" not in procs.logs(), procs.logs()
        assert "a task this process already finished; ignored" in procs.logs()  # it came
        assert [a.title for a in stream(client)] == ["Slow"]
    finally:
        procs.stop_all()
        client.close()
        server.stop()
