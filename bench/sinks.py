"""The Postgres sink's throughput and delay: `python -m bench.sinks [--events N]`.

N events are published to a real Redis (Publisher, as workers do), then `newswire sink
postgres` catches up on all of them (`--until-idle`, batches of NEWSWIRE_SINK_BATCH) into a
real PostgreSQL started here; events/s over the catch-up. Then, with the sink following, 200
more events are published 20 ms apart: the delay from each stream entry to its row
(`versions.received_at`, the transaction's time) at p50/p95."""

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis
from newswire.schemas.article import Article
from newswire.services.delivery.publish import Publisher
from newswire.services.extract.normalize import content_hash
from newswire.services.settings import Settings
from newswire.workers.stack import RedisProcess

from tests.support.postgres import PostgresServer


def article(n: int) -> Article:
    url = f"https://paper{n % 7}.example/story/{n}"
    body = f"Story {n}: the council met on Tuesday and agreed the budget for next year. " * 40
    return Article(
        id=hashlib.sha256(url.encode()).hexdigest()[:32], url=url, canonical_url=url,
        feed_url="https://paper.example/rss", title=f"Budget agreed, story {n}", body=body,
        language="en", source=f"Paper {n % 7}", fetched_at=datetime.now(UTC),
        published_at=datetime.now(UTC), word_count=len(body.split()),
        content_hash=content_hash(body), extraction="full",
    )  # fmt: skip


def run(events: int = 5000) -> dict[str, float]:
    pg = PostgresServer()
    pg.start()
    tmp = Path(tempfile.mkdtemp(prefix="newswire-sinkbench-"))
    redis_proc = RedisProcess(tmp / "redis")
    redis_proc.start()
    client = redis.Redis.from_url(redis_proc.url)
    publisher = Publisher(client, Settings(redis_url=redis_proc.url))
    env = {**os.environ, "NEWSWIRE_REDIS_URL": redis_proc.url}
    cmd = [sys.executable, "-m", "newswire.workers.cli", "sink", "postgres", pg.dsn()]
    try:
        for n in range(events):
            publisher.publish(article(n), [])
        subprocess.run(
            [*cmd, "--until-idle"], env=env, check=True, capture_output=True
        )  # warm: schema
        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            conn.execute("TRUNCATE articles, versions, clusters")
        client.xgroup_destroy("newswire:articles", "sink-postgres")
        done = subprocess.run([*cmd, "--until-idle"], env=env, check=True, capture_output=True,
                              text=True)  # fmt: skip
        # The sink's own summary: "N events written in T s" (its start-up left out).
        took = float(done.stdout.rsplit(" events written in ", 1)[1].split(" s", 1)[0])
        follower = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(2)
        for n in range(events, events + 200):
            publisher.publish(article(n), [])
            time.sleep(0.02)
        time.sleep(2)
        follower.terminate()
        follower.wait(30)
        with psycopg.connect(pg.dsn()) as conn:
            got = conn.execute(
                "SELECT stream_id, extract(epoch FROM received_at) FROM versions "
                "WHERE (data->>'title') >= '' ORDER BY received_at DESC LIMIT 200"
            ).fetchall()
        delays = sorted(float(at) - int(sid.split("-")[0]) / 1000 for sid, at in got)
    finally:
        client.close()
        redis_proc.stop()
        pg.stop(remove=True)
    return {
        "events": events, "per_second": events / took,
        "p50_ms": statistics.median(delays) * 1000,
        "p95_ms": delays[int(len(delays) * 0.95) - 1] * 1000,
    }  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    result = run(parser.parse_args().events)
    print(f"Postgres sink: {result['events']} events in a catch-up at {result['per_second']:.0f}/s; "
          f"following, stream to row p50 {result['p50_ms']:.0f} ms, "
          f"p95 {result['p95_ms']:.0f} ms")  # fmt: skip
