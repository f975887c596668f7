"""Least privilege: `newswire acl` users against a real redis-server with ACLs on; each role
does its work (real worker and scheduler processes among them) and is refused the rest."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from newswire.schemas.feed import FeedOptions
from newswire.services.delivery.subscribe import Consumer
from newswire.services.metrics import Metrics
from newswire.services.polling.registry import Registry

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import publish, stream
from tests.support.processes import Processes, newswire, stack_env, wait_for
from tests.support.redis_server import RedisServer
from tests.support.site import Site

STREAM = "newswire:articles"


@pytest.fixture(scope="module")
def acl_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server that keeps its users in an aclfile, as compose runs it."""
    root = tmp_path_factory.mktemp("acl-redis")
    (root / "users.acl").touch()
    server = RedisServer(root, extra_args=["--aclfile", str(root / "users.acl")])
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def users(acl_redis: RedisServer) -> dict[str, dict[str, str]]:
    made = newswire("acl", "--apply", "--json", env={"NEWSWIRE_REDIS_URL": acl_redis.url})
    assert made.returncode == 0, made.stderr
    installed: dict[str, dict[str, str]] = json.loads(made.stdout)
    return installed


@pytest.fixture
def admin(acl_redis: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(acl_redis.url)  # the default user: the operator
    client.flushall()
    yield client
    client.close()


def as_role(users: dict[str, dict[str, str]], role: str) -> redis.Redis:
    return redis.Redis.from_url(users[role]["url"])


def test_users_are_installed_and_saved(
    acl_redis: RedisServer, users: dict[str, dict[str, str]]
) -> None:
    assert set(users) == {"worker", "scheduler", "monitor", "consumer", "sink", "admin"}
    saved = (acl_redis.data_dir / "users.acl").read_text()
    for role in users.values():
        assert f"user {role['user']} on" in saved  # a restarted Redis still knows them
        assert role["password"] not in saved  # only its hash
    printed = newswire("acl", "--role", "consumer", env={"NEWSWIRE_REDIS_URL": acl_redis.url})
    assert (
        printed.stdout.startswith("# consumer:")
        and "ACL SETUSER newswire-consumer" in printed.stdout
    )
    wrong = newswire("acl", "--role", "root", env={"NEWSWIRE_REDIS_URL": acl_redis.url})
    assert wrong.returncode == 2 and "the roles are" in wrong.stdout


def test_a_consumer_reads_in_its_group_and_acks_and_nothing_more(
    users: dict[str, dict[str, str]], admin: redis.Redis
) -> None:
    publish(admin, 3)
    admin.hset("newswire:feed:abc", mapping={"url": "https://x/", "options": '{"password": "s"}'})
    consumer = as_role(users, "consumer")
    seen: list[str] = []
    failing = Consumer(consumer, STREAM, "search", "c1", start="0", max_deliveries=1)

    def handle(delivery: object) -> None:
        seen.append(delivery.entry_id)  # type: ignore[attr-defined]
        if len(seen) == 1:
            raise ValueError("this one goes to the dead letters")

    failing.run_deliveries(handle, until_idle=True, block_ms=100)
    Consumer(consumer, STREAM, "search", "c1", start="0", max_deliveries=1).run_deliveries(
        handle, until_idle=True, block_ms=100
    )
    assert len(set(seen)) == 3
    assert admin.xpending(STREAM, "search")["pending"] == 0  # acked, or dead-lettered
    assert admin.xlen(f"{STREAM}:dead") == 1
    for refused in (
        lambda: consumer.xadd(STREAM, {"event": "forged"}),
        lambda: consumer.xtrim(STREAM, maxlen=0),
        lambda: consumer.delete("newswire:feed:abc"),
        lambda: consumer.hgetall("newswire:feed:abc"),
        lambda: consumer.xgroup_destroy(STREAM, "search"),
        consumer.flushall,
        lambda: consumer.set(f"{STREAM}:seen:x", "1"),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            refused()
    assert admin.xlen(STREAM) == 3 and admin.exists("newswire:feed:abc")


def test_a_sink_reads_acks_and_counts_and_nothing_more(
    users: dict[str, dict[str, str]], admin: redis.Redis
) -> None:
    """The sink role: a consumer whose batches are acked in one round trip and counted in
    the metrics hash; it cannot write the stream or touch any other key."""
    publish(admin, 3)
    sink = as_role(users, "sink")
    consumer = Consumer(sink, STREAM, "sink-postgres", "s1", start="0")
    batch = consumer.take()
    assert len(batch) == 3
    consumer.ack_all(batch)
    metrics = Metrics(sink, "newswire")
    metrics.incr("sink_events", sink="postgres", outcome="written")
    metrics.flush()
    assert admin.xpending(STREAM, "sink-postgres")["pending"] == 0
    assert admin.hget("newswire:metrics", "sink_events|outcome=written|sink=postgres") == b"1"
    for refused in (
        lambda: sink.xadd(STREAM, {"event": "forged"}),
        lambda: sink.hset("newswire:metrics", "x", 1),
        lambda: sink.delete("newswire:metrics"),
        lambda: sink.set(f"{STREAM}:seen:x", "1"),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            refused()


def test_the_monitor_reads_and_writes_nothing(
    users: dict[str, dict[str, str]], admin: redis.Redis, acl_redis: RedisServer
) -> None:
    Registry(admin).add("https://news.example/rss")
    shown = newswire("status", "--json", env={"NEWSWIRE_REDIS_URL": users["monitor"]["url"]})
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["feeds"]["total"] == 1
    monitor = as_role(users, "monitor")
    with pytest.raises(redis.exceptions.NoPermissionError):
        monitor.hset("newswire:feeds", "x", "1")
    with pytest.raises(redis.exceptions.NoPermissionError):
        monitor.xadd(STREAM, {"event": "forged"})


def test_the_admin_manages_feeds_but_not_the_server(
    users: dict[str, dict[str, str]], admin: redis.Redis
) -> None:
    env = {"NEWSWIRE_REDIS_URL": users["admin"]["url"]}
    added = newswire("feeds", "add", "https://news.example/rss", env=env)
    assert added.returncode == 0, added.stderr
    assert newswire("feeds", "remove", "https://news.example/rss", env=env).returncode == 0
    for refused in (lambda c: c.flushall(), lambda c: c.config_set("appendonly", "no"),
                    lambda c: c.keys("*"), lambda c: c.set("other-app:key", "1")):  # fmt: skip
        with pytest.raises(redis.exceptions.NoPermissionError):
            refused(as_role(users, "admin"))


def test_worker_and_scheduler_run_with_their_own_users(
    users: dict[str, dict[str, str]], admin: redis.Redis, site: Site, tmp_path: Path
) -> None:
    links = []
    for n in range(3):
        links.append(site.add(f"/acl/{n}", article_page(f"Story {n}", paragraphs(f"acl {n}"))))
    feed = site.add("/acl.xml", rss2([item(u, f"Story {n}") for n, u in enumerate(links)]),
                    "application/rss+xml")  # fmt: skip
    Registry(redis.Redis.from_url(users["admin"]["url"])).add(feed, 3600, options=FeedOptions())
    procs = Processes(stack_env(users["worker"]["url"], site), tmp_path)
    try:
        procs.worker("w1")
        procs.scheduler(NEWSWIRE_REDIS_URL=users["scheduler"]["url"])
        wait_for(lambda: len(stream(admin)) == 3, 60, "three stories published by role users")
        state = Registry(admin).get(feed)
        assert state is not None and state.last_status == "200"
        monitor_env = {"NEWSWIRE_REDIS_URL": users["monitor"]["url"]}
        wait_for(lambda: "w1@" in newswire("status", env=monitor_env).stdout, 30,
                 "the worker's heartbeat, read by the monitor role", 1)  # fmt: skip
    finally:
        procs.stop_all()
        logs = procs.logs()
        print(logs)
    assert "NOPERM" not in logs and "NoPermission" not in logs
