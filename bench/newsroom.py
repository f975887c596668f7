"""A loopback newsroom: 100 feeds at different paces, registered as a user would (no interval),
one worker of 2 processes and the scheduler on default settings. How late does each class of
story reach the stream, and how many feed requests does that cost against a fixed 60 s
schedule? `python -m bench.newsroom [--minutes M]`."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import redis
from newswire.services.polling.registry import Registry
from newswire.workers.demo_site import article_html
from newswire.workers.site_server import LoopbackServer
from newswire.workers.stack import RedisProcess

from bench.throughput import stop_processes

# (class, feeds, seconds between stories; 0: never publishes)
CLASSES = (("every 20 s", 10, 20), ("every 2 min", 20, 120), ("hourly", 30, 3600),
           ("silent", 40, 0))  # fmt: skip
SHOWN = 10  # stories a feed shows
WARMUP = 90.0  # stories published before this much of the run are not counted


@dataclass(frozen=True)
class Feed:
    n: int
    kind: str
    gap: int
    phase: float

    def published(self, t0: float, now: float, shown: int | None = SHOWN) -> list[float]:
        """Publication times up to `now`, the last `shown` of them (None: all): every `gap`
        from `t0 + phase`, after the backlog a feed already has at the start (SHOWN stories)."""
        if not self.gap:
            return [t0 - 86400 * (k + 3) for k in range(SHOWN)]  # old stories, nothing new
        first = t0 + self.phase - SHOWN * self.gap
        count = int((now - first) // self.gap) + 1
        times = [first + k * self.gap for k in range(max(count, 0))]
        return times if shown is None else times[-shown:]


class Newsroom:
    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.feeds: list[Feed] = []
        for kind, count, gap in CLASSES:
            for _ in range(count):
                n = len(self.feeds)
                self.feeds.append(Feed(n, kind, gap, (n * 7.3) % gap if gap else 0.0))
        self.requests = 0
        room = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                if parts[0] == "f":
                    room.requests += 1
                    body, kind = room.feed(int(parts[1].split(".")[0])), "application/rss+xml"
                elif parts[0] == "p" and len(parts) == 3:
                    body, kind = room.page(int(parts[1]), float(parts[2])), "text/html"
                else:
                    body, kind = b"", "text/plain"
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = LoopbackServer(Handler)

    def url(self, path: str) -> str:
        return self.server.url(path)

    def feed(self, n: int) -> bytes:
        f = self.feeds[n]
        items = "".join(
            f"<item><title>Feed {n} story at {t:.0f}</title>"
            f"<link>{self.url(f'/p/{n}/{t:.0f}')}</link>"
            f"<pubDate>{format_datetime(datetime.fromtimestamp(t, UTC), usegmt=True)}</pubDate>"
            "</item>"
            for t in reversed(f.published(self.t0, time.time()))
        )
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
                f"{items}</channel></rss>").encode()  # fmt: skip

    def page(self, n: int, t: float) -> bytes:
        text = [f"Feed {n} reports story {t:.0f}: paragraph {k}. " + "Words of the story. " * 30
                for k in range(5)]  # fmt: skip
        return article_html(f"Feed {n} story at {t:.0f}", text).encode()


def run(minutes: float, root: Path) -> dict[str, object]:
    redis_proc = RedisProcess(root / "redis")
    redis_proc.start()
    client = redis.Redis.from_url(redis_proc.url)
    room = Newsroom(time.time())
    env = {**os.environ, "NEWSWIRE_REDIS_URL": redis_proc.url,
           "NEWSWIRE_FETCH_ALLOW_HOSTS": room.server.host_port,
           "NEWSWIRE_DATA_DIR": str(root / "data")}  # fmt: skip
    registry = Registry(client)
    for f in room.feeds:
        registry.add(room.url(f"/f/{f.n}.xml"))  # as `newswire feeds add URL` does
    procs = []
    for name, argv in (("worker", ["worker", "--concurrency", "2"]), ("beat", ["beat"])):
        log = (root / f"{name}.log").open("wb")
        procs.append(subprocess.Popen([sys.executable, "-m", "newswire.workers.cli", *argv],
                                      env=env, stdout=log, stderr=log, start_new_session=True))  # fmt: skip
    try:
        time.sleep(minutes * 60)
    finally:
        stop_processes(procs)
    end = time.time()
    states = {s.url: s for s in registry.all()}
    intervals = {
        kind: sorted(states[room.url(f"/f/{f.n}.xml")].polled_every for f in room.feeds
                     if f.kind == kind)
        for kind, _c, _g in CLASSES
    }  # fmt: skip
    arrived: dict[str, float] = {}
    for entry_id, fields in client.xrange("newswire:articles"):
        article = json.loads(fields[b"data"])
        arrived.setdefault(article["url"], int(entry_id.split(b"-")[0]) / 1000)
    rows: dict[str, object] = {}
    for kind, _count, gap in CLASSES:
        latencies, missing = [], 0
        for f in (f for f in room.feeds if f.kind == kind):
            # Every story published after the warm-up that had time to arrive, also those no
            # longer in the feed at the end: one that scrolled off unseen counts as missing.
            for t in f.published(room.t0, end - 30, shown=None):
                if t < room.t0 + WARMUP:
                    continue
                at = arrived.get(room.url(f"/p/{f.n}/{t:.0f}"))
                if at is None:
                    missing += 1
                else:
                    latencies.append(at - t)
        if latencies:
            q = statistics.quantiles(latencies, n=20)
            rows[kind] = {"stories": len(latencies), "missing": missing,
                          "p50_s": round(statistics.median(latencies), 1), "p95_s": round(q[18], 1)}  # fmt: skip
        elif gap:
            rows[kind] = {"stories": 0, "missing": missing}
    budget = len(room.feeds) * (end - room.t0) / 60
    rows["intervals_by_class"] = {k: [v[0], v[len(v) // 2], v[-1]] for k, v in intervals.items()}
    rows["feed_requests"] = room.requests
    rows["fixed_60s_requests"] = round(budget)
    rows["share_of_fixed_60s"] = round(room.requests / budget, 3)
    room.server.close()
    client.close()
    redis_proc.stop()
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=8.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(args.minutes, Path(tmp)), indent=2))
