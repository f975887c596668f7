"""What waiting for a replica costs a publish: `Publisher.publish` against a master with one
replica (both AOF, fsync always, on loopback), without and with NEWSWIRE_REDIS_WAIT_REPLICAS=1."""

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from newswire.schemas.article import Article
from newswire.services.delivery.publish import Publisher
from newswire.services.settings import Settings
from newswire.workers.stack import RedisProcess


@dataclass(frozen=True)
class WaitCost:
    publishes: int
    plain_ms: float  # median per publish
    waiting_ms: float
    plain_p99_ms: float
    waiting_p99_ms: float


def _article(n: int, run: str) -> Article:
    return Article(
        id=f"{run}{n:031x}"[-32:],
        url=f"https://example.com/{run}/{n}",
        canonical_url=f"https://example.com/{run}/{n}",
        feed_url="https://example.com/rss",
        title=f"Story {n}",
        body="A paragraph of body text. " * 100,
        fetched_at="2026-11-28T10:00:00Z",
        word_count=500,
        content_hash=f"{run}{n:063x}"[-64:],  # distinct: an equal body would be an alias
        extraction="full",
    )


def _times(publisher: Publisher, count: int, run: str) -> list[float]:
    times = []
    for n in range(count):
        article = _article(n, run)
        start = time.perf_counter()
        publisher.publish(article, [])
        times.append((time.perf_counter() - start) * 1000)
    return times


def run(tmp: Path, count: int = 2000) -> WaitCost:
    master = RedisProcess(tmp / "repl-master")
    master.start()
    replica = RedisProcess(
        tmp / "repl-replica", extra_args=["--replicaof", "127.0.0.1", str(master.port)]
    )
    replica.start()
    client = redis.Redis.from_url(master.url)
    try:
        deadline = time.monotonic() + 20
        while int(client.info("replication")["connected_slaves"]) < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("replica did not connect")
            time.sleep(0.1)
        plain = Publisher(client, Settings(redis_url=master.url))
        waiting = Publisher(client, Settings(redis_url=master.url, redis_wait_replicas=1))
        _times(plain, 200, "warm")
        a = _times(plain, count, "a")
        b = _times(waiting, count, "b")
    finally:
        client.close()
        replica.stop()
        master.stop()

    def p99(values: list[float]) -> float:
        return statistics.quantiles(values, n=100)[98]

    return WaitCost(count, statistics.median(a), statistics.median(b), p99(a), p99(b))


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        cost = run(Path(d))
    print(f"{cost.publishes} publishes: median {cost.plain_ms:.3f} ms plain, "
          f"{cost.waiting_ms:.3f} ms with WAIT 1 (p99 {cost.plain_p99_ms:.3f} / "
          f"{cost.waiting_p99_ms:.3f} ms)")  # fmt: skip
