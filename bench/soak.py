"""`make soak`: the chaos soak. The whole stack runs for a while over feeds that keep publishing,
with a random fault every ~20 s (worker SIGKILL, scheduler SIGKILL, Redis SIGKILL + restart, a
worker's consumer wedged, the site answering 500s or timing out); then every story must be on
the stream exactly once, the last within 2 minutes of the faults' end, no worker stalled,
memory flat. Writes bench/results/soak.md."""

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import redis
from newswire.services.polling.registry import Registry
from newswire.workers.demo_site import article_html
from newswire.workers.site_server import LoopbackServer
from newswire.workers.stack import RedisProcess, newswire_command

from bench.throughput import rss_kib, tree_pids
from tests.support.processes import fault_env

RESULTS = Path(__file__).resolve().parent / "results"
STREAM = "newswire:articles"
FAULTS = (
    "worker_kill",
    "scheduler_kill",
    "redis_kill",  # SIGKILL, restarted 1-3 s later on its append-only file
    "redis_down_60s",  # SIGKILL, restarted a minute later: everything must ride it out
    "consumer_wedge",  # a worker's consumer hangs while the process lives: the watchdog
    "site_500",
    "site_slow",
)


LATE_BOUND = 120  # seconds: the promise of docs/delivery.md


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class NewsSite:
    """Feeds that publish a new story every `every` seconds each; the last 20 are listed."""

    feeds: int
    every: float
    started: float = field(default_factory=time.time)
    fault: str = ""  # "", "500" or "slow"
    closed_at: float | None = None  # stop publishing new stories (the drain)

    def live(self, feed: int) -> int:
        """How many stories feed `feed` has published so far (staggered starts)."""
        now = self.closed_at or time.time()
        return max(0, int((now - self.started + feed * self.every / self.feeds) / self.every))

    def published(self) -> set[str]:
        """Paths of every story the feeds have published so far."""
        return {f"/s/{f}/{n}.html" for f in range(self.feeds) for n in range(self.live(f))}

    def feed_xml(self, feed: int) -> bytes:
        count = self.live(feed)
        items = []
        for n in range(max(0, count - 20), count):
            path = f"/s/{feed}/{n}.html"
            items.append(f"<item><title>Story {feed}-{n}</title><link>{self.base}{path}</link>"
                         f"<guid>{self.base}{path}</guid></item>")  # fmt: skip
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
                f"{''.join(reversed(items))}</channel></rss>").encode()  # fmt: skip

    base: str = ""


def make_server(site: NewsSite) -> LoopbackServer:
    published = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if site.fault == "slow":
                time.sleep(30)  # past the fetch deadline
            if site.fault == "500":
                return self._send(500, "text/plain", b"busy")
            parts = self.path.strip("/").split("/")
            if len(parts) == 1 and parts[0].startswith("f") and parts[0].endswith(".xml"):
                return self._send(200, "application/rss+xml", site.feed_xml(int(parts[0][1:-4])))
            if len(parts) == 3 and parts[0] == "s":
                feed, n = parts[1], parts[2].removesuffix(".html")
                paras = [f"Paragraph {i} of story {feed}-{n}, with enough words to count as "
                         "an article body for the extractor to keep it." for i in range(6)]  # fmt: skip
                html = article_html(f"Story {feed}-{n}", paras, published=published)
                return self._send(200, "text/html; charset=utf-8", html.encode())
            return self._send(404, "text/plain", b"not found")

        def _send(self, status: int, ctype: str, body: bytes) -> None:
            # A client that gave up (its fetch deadline, during `site_slow`) is expected here.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

    return LoopbackServer(Handler)


class Fleet:
    """Two workers and a scheduler, restarted when they exit (as compose's `restart:` does)."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.specs = {
            "w1": ["worker", "-n", "w1@%h", "--concurrency", "2"],
            "w2": ["worker", "-n", "w2@%h", "--concurrency", "2"],
            "beat": ["beat"],
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: Counter[str] = Counter()
        self.exit_codes: Counter[int] = Counter()

    def start(self, name: str) -> None:
        with (self.log_dir / f"{name}.log").open("ab") as out:
            self.procs[name] = subprocess.Popen(
                newswire_command(*self.specs[name]), env=self.env, stdout=out, stderr=out,
                start_new_session=True,
            )  # fmt: skip

    def supervise(self) -> None:
        for name, proc in self.procs.items():
            code = proc.poll()
            if code is not None:
                self.exit_codes[code] += 1
                self.restarts[name] += 1
                self.start(name)

    def kill(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(10)

    def rss_mib(self, name: str) -> float:
        return sum(rss_kib(p) for p in tree_pids(self.procs[name].pid)) / 1024

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def stream_urls(client: redis.Redis) -> list[str]:
    urls, last = [], "-"
    while True:
        batch = client.xrange(STREAM, min=last, count=1000)
        fresh = [e for e in batch if e[0].decode() != last]
        if not fresh:
            return urls
        for entry_id, fields in fresh:
            urls.append(json.loads(fields[b"data"])["canonical_url"])
            last = entry_id.decode()


def run(minutes: float, feeds: int, every: float, fault_every: float, seed: int) -> str:
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="newswire-soak-"))
    os.environ["NEWSWIRE_DATA_DIR"] = str(tmp / "data")  # archives stay in the soak's tmp
    site = NewsSite(feeds, every)
    server = make_server(site)
    site.base = server.base
    redis_proc = RedisProcess(tmp / "redis")
    redis_proc.start()
    client = redis.Redis.from_url(redis_proc.url)
    registry = Registry(client)
    for f in range(feeds):
        registry.add(f"{server.base}/f{f}.xml", 10)
    env = {
        **os.environ,
        "NEWSWIRE_REDIS_URL": redis_proc.url,
        "NEWSWIRE_FETCH_ALLOW_HOSTS": server.host_port,
        "NEWSWIRE_HOST_RATE": "50",
        "NEWSWIRE_HOST_BURST": "50",
        **fault_env("wedge"),
        "NEWSWIRE_ENTRY_REDELIVER_SECONDS": "120",
    }
    fleet = Fleet(env, tmp)
    for name in fleet.specs:
        fleet.start(name)
    faults: Counter[str] = Counter()
    memory: list[tuple[float, float, float]] = []
    started = time.monotonic()
    end = started + minutes * 60
    next_fault = started + 30  # warm up first
    next_sample = started + 60
    log(f"soak: {feeds} feeds, a story each per {every:.0f}s, faults every ~{fault_every:.0f}s, "
        f"{minutes:g} min; logs in {tmp}")  # fmt: skip
    try:
        outage_until: float | None = None
        while time.monotonic() < end or outage_until:
            fleet.supervise()
            now = time.monotonic()
            if outage_until and now >= outage_until:
                redis_proc.start()
                outage_until = None
            if outage_until:  # nothing else happens while Redis is away
                time.sleep(0.5)
                continue
            if now >= next_sample:
                memory.append(((now - started) / 60, fleet.rss_mib("w1"), fleet.rss_mib("w2")))
                next_sample += 60
            if now >= next_fault and now < end:
                kind = rng.choice(FAULTS)
                faults[kind] += 1
                log(f"fault: {kind}")
                if kind == "worker_kill":
                    fleet.kill(rng.choice(["w1", "w2"]))
                elif kind == "scheduler_kill":
                    fleet.kill("beat")
                elif kind == "redis_kill":
                    redis_proc.kill()
                    time.sleep(rng.uniform(1, 3))
                    redis_proc.start()
                elif kind == "redis_down_60s":
                    redis_proc.kill()
                    outage_until = now + 60
                elif kind == "consumer_wedge":
                    os.kill(fleet.procs[rng.choice(["w1", "w2"])].pid, signal.SIGUSR2)
                else:
                    site.fault = "500" if kind == "site_500" else "slow"
                    threading.Timer(15, lambda: setattr(site, "fault", "")).start()
                next_fault = now + rng.uniform(0.5, 1.5) * fault_every
            time.sleep(0.5)
        site.fault = ""
        published_during = len(set(stream_urls(client)))
        site.closed_at = time.time()  # the feeds stop publishing; let the pipeline drain
        log("faults over; draining")
        drain_started = time.monotonic()
        expected = {server.base + p for p in site.published()}
        while time.monotonic() - drain_started < 600:
            fleet.supervise()
            if expected <= set(stream_urls(client)):
                break
            time.sleep(2)
        drained = time.monotonic() - drain_started
        memory.append(((time.monotonic() - started) / 60, fleet.rss_mib("w1"), fleet.rss_mib("w2")))
        time.sleep(5)  # a last round of heartbeats
        urls = stream_urls(client)
        counts = Counter(urls)
        missing = expected - set(counts)
        doubled = {u: n for u, n in counts.items() if n > 1}
        workers = [json.loads(v) for v in client.hgetall("newswire:workers").values()]
        stalled_now = [w["name"] for w in workers if w["state"] == "stalled"]
        metrics = {k.decode(): int(v) for k, v in client.hgetall("newswire:metrics").items()}
    finally:
        fleet.stop()
        client.close()
        redis_proc.stop()
        server.close()
    tracebacks = {
        name: (tmp / f"{name}.log").read_text(errors="replace").count("Traceback")
        for name in fleet.specs
    }
    report = f"""# Chaos soak

Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores; `make soak` (bench/soak.py,
seed {seed}). Two workers (`--concurrency 2`) and one scheduler, restarted when they exit (as
compose's `restart: unless-stopped` does), default settings (`NEWSWIRE_WORKER_STALL_SECONDS`
90, `NEWSWIRE_WORKER_WEDGE_SECONDS` 45); Redis with an append-only file fsynced always.
{feeds} feeds polled every 10 s, each publishing a new story every {every:.0f} s.

| | |
|---|---|
| duration with faults | {minutes:g} min, then {drained:.0f} s to drain |
| faults | {sum(faults.values())}: {", ".join(f"{k} {n}" for k, n in sorted(faults.items()))} |
| stories published by the feeds | {len(expected)} |
| stories that appeared on the stream during the faults | {published_during} |
| on the stream | {len(urls)} entries, {len(counts)} distinct |
| missing | {len(missing)} |
| doubled | {len(doubled)} |
| worker/scheduler restarts | {dict(fleet.restarts) or "none"} (exit codes {dict(fleet.exit_codes)}; 70 = stall watchdog, -9 = SIGKILL) |
| stalled at the end | {stalled_now or "none"} |
| tracebacks in the logs | {tracebacks} |
| entries by outcome (counters: a SIGKILLed worker's last second of counts is lost) | {", ".join(f"{k.split('=')[1]} {v}" for k, v in sorted(metrics.items()) if k.startswith("entries|"))} |

Worker memory (MiB, main process + pool), by minute:

| minute | w1 | w2 |
|---|---|---|
""" + "".join(f"| {m:.1f} | {a:.0f} | {b:.0f} |\n" for m, a, b in memory)
    # Nothing late: once the faults end, the last story is out within LATE_BOUND (a worker's
    # tasks come back after the 50 s visibility timeout, a feed's error backoff is at most
    # eight of its 10 s intervals).
    ok = not missing and not doubled and not stalled_now and drained <= LATE_BOUND
    report += f"\nVerdict: {'every story exactly once, none late' if ok else 'FAILED'}"
    report += (
        ""
        if ok
        else (
            f" (missing: {sorted(missing)[:10]}, doubled: {list(doubled)[:10]}, "
            f"drained in {drained:.0f} s of {LATE_BOUND} allowed)"
        )
    )
    return report + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--feeds", type=int, default=30)
    parser.add_argument("--every", type=float, default=60, help="seconds between stories")
    parser.add_argument("--fault-every", type=float, default=20)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    report = run(args.minutes, args.feeds, args.every, args.fault_every, args.seed)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.md").write_text(report)
    print(report)
    return 0 if "exactly once" in report else 1


if __name__ == "__main__":
    sys.exit(main())
