"""Sinks' throughput and delay: `python -m bench.sinks [--events N] [--kind postgres|nats]`.

N events are published to a real Redis (Publisher, as workers do), then `newswire sink KIND`
catches up on all of them (`--until-idle`, batches of NEWSWIRE_SINK_BATCH) into a real
PostgreSQL or `nats-server -js` started here; events/s over the catch-up (the sink's own
count and time). Then, with the sink following, 200 more events are published 20 ms apart:
the delay from each stream entry to its arrival (Postgres: `versions.received_at`, the
transaction's time; JetStream: the stored message's time) at p50/p95."""

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import nats
import psycopg
import redis
from newswire.schemas.article import Article
from newswire.services.delivery.publish import Publisher
from newswire.services.extract.normalize import content_hash
from newswire.services.settings import Settings
from newswire.workers.stack import RedisProcess, free_port

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


def run(events: int = 5000, kind: str = "postgres") -> dict[str, float]:
    """Catch-up events/s and following delay p50/p95 of one sink kind (postgres, nats)."""
    tmp = Path(tempfile.mkdtemp(prefix="newswire-sinkbench-"))
    redis_proc = RedisProcess(tmp / "redis")
    redis_proc.start()
    client = redis.Redis.from_url(redis_proc.url)
    publisher = Publisher(client, Settings(redis_url=redis_proc.url))
    env = {**os.environ, "NEWSWIRE_REDIS_URL": redis_proc.url}
    target = Target(kind, tmp)
    cmd = [sys.executable, "-m", "newswire.workers.cli", "sink", kind, *target.args]
    try:
        for n in range(events):
            publisher.publish(article(n), [])
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
        delays = target.delays(200)
    finally:
        client.close()
        redis_proc.stop()
        target.stop()
    return {
        "events": events, "per_second": events / took,
        "p50_ms": statistics.median(delays) * 1000,
        "p95_ms": delays[int(len(delays) * 0.95) - 1] * 1000,
    }  # fmt: skip


class Target:
    """The sink's target, started here: a PostgreSQL or a `nats-server -js`."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        if kind == "postgres":
            self.pg = PostgresServer()
            self.pg.start()
            self.args = [self.pg.dsn()]
        else:
            self.port = free_port()
            self.proc = subprocess.Popen(
                ["nats-server", "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd",
                 str(tmp / "nats")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1)
            self.args = [f"nats://127.0.0.1:{self.port}", "--stream", "BENCH"]

    def delays(self, last: int) -> list[float]:
        """Seconds from each of the `last` stream entries to its arrival in the target."""
        if self.kind == "postgres":
            with psycopg.connect(self.pg.dsn()) as conn:
                got = conn.execute(
                    "SELECT stream_id, extract(epoch FROM received_at) FROM versions "
                    "ORDER BY received_at DESC LIMIT %s", (last,),
                ).fetchall()  # fmt: skip
            return sorted(float(at) - int(sid.split("-")[0]) / 1000 for sid, at in got)
        return asyncio.run(self._nats_delays(last))

    async def _nats_delays(self, last: int) -> list[float]:
        nc = await nats.connect(f"nats://127.0.0.1:{self.port}")
        js = nc.jetstream()
        info = await js.stream_info("BENCH")
        delays = []
        for seq in range(info.state.last_seq - last + 1, info.state.last_seq + 1):
            msg = await js.get_msg("BENCH", seq)
            sid = json.loads(msg.data or b"{}")["stream_id"]
            # The message's time in JetStream: when it was stored (and the publish acked).
            if msg.time is not None:
                delays.append(msg.time.timestamp() - int(sid.split("-")[0]) / 1000)
        await nc.close()
        return sorted(delays)

    def stop(self) -> None:
        if self.kind == "postgres":
            self.pg.stop(remove=True)
        else:
            self.proc.terminate()
            self.proc.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--kind", default="postgres", choices=("postgres", "nats"))
    args = parser.parse_args()
    result = run(args.events, args.kind)
    print(f"{args.kind} sink: {result['events']} events in a catch-up at "
          f"{result['per_second']:.0f}/s; following, stream to target p50 {result['p50_ms']:.0f} ms, "
          f"p95 {result['p95_ms']:.0f} ms")  # fmt: skip
