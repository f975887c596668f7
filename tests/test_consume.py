"""The consumer API against a real Redis: crash recovery, dead letters, requeue, tail/dead CLI."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import redis
from newswire.schemas.article import Article
from newswire.services.delivery.deadletters import dead_letters, requeue
from newswire.services.delivery.publish import Publisher
from newswire.services.delivery.subscribe import Consumer
from newswire.services.settings import Settings

from tests.support.pipeline import publish
from tests.support.processes import newswire, wait_for
from tests.support.redis_server import RedisServer

STREAM = "newswire:articles"


CONSUMER = """
import sys, time, redis
from newswire.services.delivery.subscribe import Consumer
client = redis.Redis.from_url(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
def handle(article):
    time.sleep(0.2)
    out.write(article.id + "\\n")
Consumer(client, "newswire:articles", "indexer", "c1", start="0").run(handle)
"""


def test_killed_consumer_entries_are_claimed_by_another(
    redis_server: RedisServer, redis_client: redis.Redis, tmp_path: Path
) -> None:
    ids = publish(redis_client, 20)
    handled_file = tmp_path / "c1.txt"
    proc = subprocess.Popen(
        [sys.executable, "-c", CONSUMER, redis_server.url, str(handled_file)],
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: handled_file.exists() and len(handled_file.read_text().split()) >= 3,
            30,
            "c1 to start",
        )
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    by_c1 = set(handled_file.read_text().split())
    assert len(by_c1) < 20, "killed mid-batch"
    assert redis_client.xpending(STREAM, "indexer")["pending"] > 0  # c1 held unacked entries

    by_c2: list[str] = []
    c2 = Consumer(redis_client, STREAM, "indexer", "c2", claim_idle_ms=200)
    time.sleep(0.3)
    c2.run(
        lambda a: by_c2.append(a.id),
        stop=lambda: (
            redis_client.xpending(STREAM, "indexer")["pending"] == 0
            and len(by_c1 | set(by_c2)) == 20
        ),
        block_ms=100,
    )

    assert by_c1 | set(by_c2) == set(ids)  # nothing lost
    assert len(by_c2) == len(set(by_c2))
    assert redis_client.xpending(STREAM, "indexer")["pending"] == 0


def test_poison_entry_goes_to_dead_letters_and_can_be_requeued(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    ids = publish(redis_client, 5)
    poison = ids[2]
    seen: list[str] = []

    def handle(article: Article) -> None:
        if article.id == poison:
            raise ValueError("cannot index this one")
        seen.append(article.id)

    consumer = Consumer(
        redis_client, STREAM, "indexer", "c1", start="0", claim_idle_ms=0, max_deliveries=3
    )
    consumer.run(handle, stop=lambda: redis_client.xlen(STREAM + ":dead") > 0, block_ms=50)

    assert sorted(seen) == sorted(set(ids) - {poison})
    [dead] = dead_letters(redis_client, STREAM)
    assert dead.article_id == poison and dead.group == "indexer"
    assert dead.reason == "ValueError: cannot index this one"
    assert redis_client.xpending(STREAM, "indexer")["pending"] == 0

    # Another group already has the story; a requeue must reach only "indexer".
    other: list[str] = []
    Consumer(redis_client, STREAM, "archive", "a1", start="0").run(
        lambda a: other.append(a.id), count=5
    )
    new_id = requeue(redis_client, STREAM, dead.entry_id)
    assert new_id is not None and dead_letters(redis_client, STREAM) == []
    fixed: list[str] = []
    consumer.run(lambda a: fixed.append(a.id), count=1, block_ms=50)
    assert fixed == [poison]
    Consumer(redis_client, STREAM, "archive", "a1").run(
        lambda a: other.append(a.id), stop=lambda: True
    )
    later = redis_client.xinfo_groups(STREAM)
    assert sorted(other) == sorted(ids)
    assert {g["name"].decode(): g["pending"] for g in later} == {"indexer": 0, "archive": 0}


def test_tail_from_id_and_dead_cli(redis_server: RedisServer, redis_client: redis.Redis) -> None:
    publish(redis_client, 3)
    env = {"NEWSWIRE_REDIS_URL": redis_server.url}
    first_id = redis_client.xrange(STREAM, count=1)[0][0].decode()
    after = newswire("tail", "--json", "--from", first_id, env=env)
    assert [json.loads(line)["title"] for line in after.stdout.splitlines()] == [
        "Story 1",
        "Story 2",
    ]

    Consumer(redis_client, STREAM, "g", "c", start="0", claim_idle_ms=0, max_deliveries=1).run(
        lambda a: (_ for _ in ()).throw(RuntimeError("boom")),
        stop=lambda: redis_client.xlen(STREAM + ":dead") >= 3,
        block_ms=50,
    )
    listed = newswire("dead", "--json", env=env)
    letters = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(letters) == 3 and {d["reason"] for d in letters} == {"RuntimeError: boom"}
    table = newswire("dead", env=env)
    assert "RuntimeError: boom" in table.stdout
    requeued = newswire("dead", "--requeue-all", "--count", "2", env=env)  # all, not 2
    assert "requeued 3" in requeued.stdout
    assert redis_client.xlen(STREAM + ":dead") == 0 and redis_client.xlen(STREAM) == 6


def test_stream_trimmed_by_age(redis_client: redis.Redis, redis_server: RedisServer) -> None:
    old_id = f"{int((time.time() - 7200) * 1000)}-0"
    redis_client.xadd(STREAM, {"event": "article.published", "data": "{}"}, id=old_id)
    publisher = Publisher(
        redis_client, Settings(redis_url=redis_server.url, stream_max_age_hours=1)
    )
    url = "https://news.example/fresh"
    article = Article(id="f" * 32, url=url, canonical_url=url, feed_url="https://news.example/rss",
                      fetched_at=datetime.now(UTC), content_hash="0" * 64, extraction="full")  # fmt: skip
    publisher.publish(article, [url])
    [(only, fields)] = redis_client.xrange(STREAM)
    assert only.decode() != old_id and fields[b"id"] == b"f" * 32
