"""Polling at scale: thousands of registered feeds in steady state against a local server."""

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import redis
from newswire.schemas.feed import FeedState
from newswire.services.polling.registry import Registry, feed_id
from newswire.workers.site_server import LoopbackServer

from bench.throughput import cpu_seconds, stop_processes, tree_pids
from bench.unchanged import feed_body

EMPTY_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
SAME_BODY = feed_body(0)


@dataclass
class PollingResult:
    feeds: int
    interval: int
    first_round_seconds: float
    first_round_polls_per_s: float
    steady_polls_per_s: float
    steady_not_modified_share: float
    scheduler_cpu_ms_per_tick: float
    redis_bytes_per_feed: float
    stalest_feed_age: float


def without_validators(path: str) -> bool:
    """/f/<n>.xml with n % 5 in (0, 1): 40% of the feeds, served without ETag or
    Last-Modified, the same 100-item body every time (many servers do just that)."""
    n = path.rsplit("/", 1)[-1].split(".", maxsplit=1)[0]
    return n.isdigit() and int(n) % 5 < 2


class FeedServer:
    """Every /f/<n>.xml is a feed: an empty one with an ETag (conditional requests get 304),
    or with `mixed`, for 40% of them, a 100-item body without validators (an identical 200
    every time)."""

    def __init__(self, mixed: bool = True) -> None:
        self.hits = 0
        self.not_modified = 0
        self.identical = 0
        self.mixed = mixed
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes

            def do_GET(self) -> None:
                server.hits += 1
                if server.mixed and without_validators(self.path):
                    server.identical += 1
                    self._send(SAME_BODY, {})
                    return
                if self.headers.get("If-None-Match") == '"v1"':
                    server.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", '"v1"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._send(EMPTY_FEED, {"ETag": '"v1"'})

            def _send(self, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = LoopbackServer(Handler)
        self.port = self.httpd.port

    def close(self) -> None:
        self.httpd.close()


def start_polling(env: dict[str, str], log_dir: Path, prefix: str) -> list[subprocess.Popen[bytes]]:
    """A worker of 2 processes on the feeds queue, and the scheduler; logs in `log_dir`."""
    procs = []
    for name, argv in (
        ("poller", ["worker", "-n", "poller@%h", "--concurrency", "2", "-Q", "feeds"]),
        ("beat", ["beat"]),
    ):
        log = (log_dir / f"{prefix}{name}.log").open("wb")
        procs.append(subprocess.Popen([sys.executable, "-m", "newswire.workers.cli", *argv],
                                      env=env, stdout=log, stderr=log, start_new_session=True))  # fmt: skip
        log.close()
    return procs


def run(redis_url: str, feeds: int, interval: int, window: float, log_dir: Path) -> PollingResult:
    client = redis.Redis.from_url(redis_url)
    server = FeedServer(mixed=False)
    env = {
        **os.environ,
        "NEWSWIRE_REDIS_URL": redis_url,
        "NEWSWIRE_FETCH_ALLOW_HOSTS": f"127.0.0.1:{server.port}",
    }
    registry = Registry(client)
    before = int(client.info("memory")["used_memory"])
    for n in range(feeds):
        registry.add(f"http://127.0.0.1:{server.port}/f/{n}.xml", interval)
    per_feed = (int(client.info("memory")["used_memory"]) - before) / feeds
    procs = start_polling(env, log_dir, "")
    try:
        started = time.monotonic()
        while server.hits < feeds and time.monotonic() - started < 600:
            time.sleep(0.1)
        first_round = time.monotonic() - started
        scheduler = procs[1].pid
        hits0, nm0, cpu0, t0 = (
            server.hits,
            server.not_modified,
            cpu_seconds(scheduler),
            time.monotonic(),
        )
        time.sleep(window)
        elapsed = time.monotonic() - t0
        hits, nm, cpu = (
            server.hits - hits0,
            server.not_modified - nm0,
            cpu_seconds(scheduler) - cpu0,
        )
        ticks = elapsed / 1.0  # NEWSWIRE_SCHEDULER_TICK default
        now = time.time()
        polled = [now - f.last_polled for f in registry.all() if f.last_polled]
        return PollingResult(
            feeds=feeds,
            interval=interval,
            first_round_seconds=first_round,
            first_round_polls_per_s=feeds / first_round,
            steady_polls_per_s=hits / elapsed,
            steady_not_modified_share=nm / hits if hits else 0.0,
            scheduler_cpu_ms_per_tick=cpu * 1000 / ticks,
            redis_bytes_per_feed=per_feed,
            stalest_feed_age=max(polled) if polled else float("nan"),
        )
    finally:
        stop_processes(procs)
        server.close()
        client.close()


@dataclass
class SteadyResult:
    feeds: int
    interval: int
    window: float
    seed_seconds: float
    polls_per_s: float
    needed_polls_per_s: float
    not_modified_share: float
    identical_share: float  # identical 200s without validators: no parse
    stalest_seconds: float
    most_overdue_seconds: float
    scheduler_core_share: float
    poller_core_share: float
    redis_bytes_per_feed: float
    poller_cpu_ms_per_poll: float  # the whole worker (2 processes), Celery included


def run_steady(
    redis_url: str, feeds: int, interval: int, window: float, log_dir: Path
) -> SteadyResult:
    """`feeds` feeds already in steady state (each polled once within the last `interval`,
    with an ETag the server answers 304 to, due times spread evenly), polled by one worker of
    2 processes and the scheduler for `window` seconds: does polling keep up?"""
    client = redis.Redis.from_url(redis_url)
    server = FeedServer()
    env = {**os.environ, "NEWSWIRE_REDIS_URL": redis_url,
           "NEWSWIRE_FETCH_ALLOW_HOSTS": f"127.0.0.1:{server.port}"}  # fmt: skip
    registry = Registry(client)
    before = int(client.info("memory")["used_memory"])
    same_digest = hashlib.blake2b(SAME_BODY, digest_size=16).hexdigest()  # FetchResult.digest
    seeded = time.monotonic()
    now = time.time()
    for n in range(feeds):
        url = f"http://127.0.0.1:{server.port}/f/{n}.xml"
        last = now - interval * (n + 0.5) / feeds  # evenly over the last interval
        plain = without_validators(url)
        registry.save(FeedState(
            id=feed_id(url), url=url, interval=interval, etag=None if plain else '"v1"',
            body_hash=same_digest if plain else None, last_status="200" if plain else "304",
            last_polled=last, next_due=last + interval, added_at=last, format="rss20",
        ))  # fmt: skip
    seed_seconds = time.monotonic() - seeded
    per_feed = (int(client.info("memory")["used_memory"]) - before) / feeds
    procs = start_polling(env, log_dir, "steady-")
    try:
        time.sleep(3)  # start-up; the clock starts now
        hits0, nm0, same0, t0 = server.hits, server.not_modified, server.identical, time.monotonic()
        cpu0 = [sum(cpu_seconds(p) for p in tree_pids(proc.pid)) for proc in procs]
        time.sleep(window)
        elapsed = time.monotonic() - t0
        cpu = [
            sum(cpu_seconds(p) for p in tree_pids(proc.pid)) - c
            for proc, c in zip(procs, cpu0, strict=True)
        ]
        hits, nm = server.hits - hits0, server.not_modified - nm0
        same = server.identical - same0
        now = time.time()
        states = registry.all()
        stalest = max(now - (f.last_polled or 0) for f in states)
        overdue = max(now - f.next_due for f in states)
        return SteadyResult(
            feeds=feeds, interval=interval, window=elapsed, seed_seconds=seed_seconds,
            polls_per_s=hits / elapsed, needed_polls_per_s=feeds / interval,
            not_modified_share=nm / hits if hits else 0.0,
            identical_share=same / hits if hits else 0.0, stalest_seconds=stalest,
            most_overdue_seconds=max(overdue, 0.0), scheduler_core_share=cpu[1] / elapsed,
            poller_core_share=cpu[0] / elapsed, redis_bytes_per_feed=per_feed,
            poller_cpu_ms_per_poll=cpu[0] * 1000 / hits if hits else float("nan"),
        )  # fmt: skip
    finally:
        stop_processes(procs)
        server.close()
        client.close()


if __name__ == "__main__":
    import argparse
    import json
    import tempfile

    from newswire.workers.stack import RedisProcess

    parser = argparse.ArgumentParser(description="Polling in steady state, alone.")
    parser.add_argument("--feeds", type=int, default=50_000)
    parser.add_argument("--interval", type=int, default=900)
    parser.add_argument("--window", type=float, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NEWSWIRE_DATA_DIR"] = f"{tmp}/data"
        redis_proc = RedisProcess(Path(tmp) / "redis")
        redis_proc.start()
        try:
            result = run_steady(redis_proc.url, args.feeds, args.interval, args.window, Path(tmp))
        finally:
            redis_proc.stop()
    print(json.dumps(result.__dict__, indent=2))
