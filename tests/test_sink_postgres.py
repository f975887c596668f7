"""The Postgres sink against a real PostgreSQL the tests start (initdb, pg_ctl) and a real Redis:
every event once, also across a crash between the write and the ack; every version kept, the
latest in `articles`; ranked full-text search in each story's language."""

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import redis
from newswire.schemas.article import Article
from newswire.services.delivery.publish import Publisher
from newswire.services.delivery.subscribe import Consumer
from newswire.services.extract.normalize import content_hash
from newswire.services.identity.revisions import Known
from newswire.services.settings import Settings
from newswire.services.sinks.postgres import Archive

from tests.support.postgres import PostgresServer
from tests.support.processes import newswire, wait_for
from tests.support.redis_server import RedisServer

STREAM = "newswire:articles"


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.stop(remove=True)


@pytest.fixture
def dsn(postgres: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A database of this test's own."""
    name = "t_" + hashlib.sha256(request.node.name.encode()).hexdigest()[:12]
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return postgres.dsn(name)


def article(n: int, title: str, body: str, language: str = "en", **extra: object) -> Article:
    url = f"https://paper{n % 3}.example/story/{n}"
    return Article(
        id=hashlib.sha256(url.encode()).hexdigest()[:32], url=url, canonical_url=url,
        feed_url="https://paper.example/rss", title=title, body=body, language=language,
        source=f"Paper {n % 3}", fetched_at="2026-12-06T10:00:00Z",
        published_at=datetime(2026, 12, 6, 9, 0, tzinfo=UTC) - timedelta(minutes=n),
        word_count=len(body.split()), content_hash=content_hash(body), extraction="full",
        **extra,
    )  # fmt: skip


def rows(dsn: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()  # type: ignore[return-value]


def test_every_version_once_and_the_latest_in_articles(
    redis_server: RedisServer, redis_client: redis.Redis, dsn: str
) -> None:
    """Three stories, one of them updated: four versions, three articles with the update's
    text, and writing the same batch again (a crash before the ack) changes nothing."""
    publisher = Publisher(redis_client, Settings(redis_url=redis_server.url))
    first = [article(n, f"Story {n}", f"The body of story {n}. " * 30) for n in range(3)]
    for a in first:
        assert publisher.publish(a, [a.url or ""]).new
    record = publisher.describe(first[0].id)
    assert record is not None
    known = Known(first[0].id, record.version, record.content_hash, record.cluster_id)
    changed = first[0].model_copy(update={"body": "A corrected body. " * 30,
                                          "content_hash": content_hash("A corrected body. " * 30)})  # fmt: skip
    assert publisher.update(changed, known).new

    consumer = Consumer(redis_client, STREAM, "sink-postgres", "t", start="0", batch=100)
    batch = consumer.take()
    assert [d.event for d in batch].count("article.updated") == 1
    archive = Archive.connect(dsn)
    try:
        assert archive.migrate() == ["001_archive.sql"]
        assert archive.migrate() == []  # applied once
        archive.write(batch)
        archive.write(batch)  # the same batch again: nothing doubles
        archive.write(batch[:2])  # an older version again: the latest stays
    finally:
        archive.close()
    assert rows(dsn, "SELECT count(*) FROM versions") == [(4,)]
    assert rows(dsn, "SELECT count(*) FROM articles") == [(3,)]
    assert rows(
        dsn, f"SELECT version, left(body, 17) FROM articles WHERE id = '{first[0].id}'"
    ) == [(2, "A corrected body.")]
    assert rows(dsn, f"SELECT version FROM versions WHERE id = '{first[0].id}' ORDER BY 1") == [
        (1,), (2,)
    ]  # fmt: skip
    assert rows(dsn, "SELECT sum(stories) FROM clusters") == [(3,)]


def test_500_events_once_with_the_sink_killed_between_write_and_ack(
    redis_server: RedisServer, redis_client: redis.Redis, dsn: str
) -> None:
    """500 events. A first member writes a batch of 50 and dies before its ack (the crash
    between write and ack, made exact); the sink process, under the same member name, reads
    that batch again first. It is SIGKILLed once it has the first 250, the other 250 arrive
    while it is down, and it is started again. Every event is in Postgres exactly once and
    the group has nothing pending."""
    publisher = Publisher(redis_client, Settings(redis_url=redis_server.url))

    def publish(numbers: range) -> None:
        for n in numbers:
            body = f"Distinct story number {n} with words of its own. " * 12
            a = article(n, f"Event {n}", body)
            assert publisher.publish(a, [a.url or ""]).new

    publish(range(250))
    consumer = Consumer(redis_client, STREAM, "sink-postgres", "m1", start="0", batch=50)
    archive = Archive.connect(dsn)
    archive.migrate()
    archive.write(consumer.take())  # written, never acked: the crash
    archive.close()

    env = {**os.environ, "NEWSWIRE_REDIS_URL": redis_server.url}
    cmd = [sys.executable, "-m", "newswire.workers.cli", "sink", "postgres", dsn, "--name",
           "m1", "--batch", "20"]  # fmt: skip

    def count() -> int:
        return int(rows(dsn, "SELECT count(*) FROM versions")[0][0])  # type: ignore[call-overload]

    sink = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    try:
        wait_for(lambda: count() == 250, 60, "the first 250")
        os.killpg(sink.pid, signal.SIGKILL)
        sink.communicate(timeout=10)
        publish(range(250, 500))
        sink = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
        wait_for(lambda: count() == 500, 60, "all 500")
        wait_for(lambda: redis_client.xpending(STREAM, "sink-postgres")["pending"] == 0, 30,
                 "every entry acked")  # fmt: skip
    finally:
        sink.send_signal(signal.SIGTERM)
        output = sink.communicate(timeout=30)[0].decode()
    assert "events written" in output, output
    assert rows(dsn, "SELECT count(*), count(DISTINCT id) FROM articles") == [(500, 500)]
    metrics = {k.decode(): int(v) for k, v in redis_client.hgetall("newswire:metrics").items()}
    # Counted in /metrics (what the SIGKILLed process had not flushed yet is lost).
    assert metrics.get("sink_events|outcome=written|sink=postgres", 0) >= 250
    shown = newswire("status", "--json", env={"NEWSWIRE_REDIS_URL": redis_server.url})
    [sink_status] = json.loads(shown.stdout)["sinks"]
    assert sink_status["name"] == "postgres" and sink_status["lag"] == 0
    assert sink_status["written"] >= 250 and sink_status["dead_letter"] == 0
    text = newswire("status", env={"NEWSWIRE_REDIS_URL": redis_server.url}).stdout
    assert "sink postgres: " in text and "0 behind" in text


def test_search_ranks_title_above_body_and_stems_each_language(
    redis_server: RedisServer, redis_client: redis.Redis, dsn: str
) -> None:
    publisher = Publisher(redis_client, Settings(redis_url=redis_server.url))
    stories = [
        article(1, "Reservoir approved after long debate",
                "The regional board voted on Monday after a year of hearings. " * 8),
        article(2, "Anglers gather for their annual contest",
                "They fished near the old reservoir all day, and the winner landed a pike. " * 8),
        article(3, "Hochwasser: Häuser am Fluss geräumt",
                "Die Feuerwehr räumte am Morgen mehrere Häuser in der Altstadt. " * 8, "de"),
        article(4, "Markets close higher", "Shares rose for a third day in quiet trading. " * 8),
    ]  # fmt: skip
    for a in stories:
        assert publisher.publish(a, [a.url or ""]).new
    archive = Archive.connect(dsn)
    try:
        archive.migrate()
        archive.write(Consumer(redis_client, STREAM, "s", "t", start="0").take())
        reservoir = archive.search("reservoir")
        assert [h.id for h in reservoir] == [stories[0].id, stories[1].id]  # title above body
        assert "[reservoir]" in reservoir[1].snippet
        haus = archive.search("Haus", language="de")  # German stemming: Häuser -> haus
        assert [h.id for h in haus] == [stories[2].id]
        assert [h.id for h in archive.search("Haus")] == [stories[2].id]  # any language
        assert archive.search("Haus", language="en") == []
        # English stemming: "share trading" finds "Shares ... trading".
        assert [h.id for h in archive.search("share trading")] == [stories[3].id]
    finally:
        archive.close()
    found = newswire("search", "reservoir", "--dsn", dsn, "--json", "--source", "paper1",
                     env={"NEWSWIRE_REDIS_URL": redis_server.url})  # fmt: skip
    assert found.returncode == 0, found.stderr
    [hit] = [json.loads(line) for line in found.stdout.splitlines()]
    assert hit["id"] == stories[0].id and hit["rank"] > 0 and hit["language"] == "en"
