"""Fault checks on default settings, in loops: `python -m bench.faults [--runs 10]
[--kinds worker_kill,redis_kill,redis_restarts,consumer_wedge,redis_storm] [--copies 3]`.

Each run: one worker (`--concurrency 2`, as compose runs it) and the scheduler on default
timing settings (only the fixture site allowed and its host rate raised), Redis with an
append-only file fsynced always, the corpus pages behind feeds on a site that answers each
page after 0.2 s. Once a fifth of the stories are out, the fault:

- worker_kill: the worker's process group SIGKILLed, a new worker started at once (compose
  restarts it);
- redis_kill: Redis SIGKILLed and restarted on its file 1 s later;
- redis_restarts: that, four times, 8 s apart;
- redis_storm: that, ten times, 3 s apart (not run unless asked for: a rare fault made
  likelier, for hunting what four restarts show once in a hundred runs);
- consumer_wedge: the worker's task consumer hangs while the process lives (SIGUSR2 through
  tests/support/faults); the watchdog makes it exit after 45 s (it is not consuming while
  Redis answers: NEWSWIRE_WORKER_WEDGE_SECONDS) and it is restarted, as compose restarts it.

A run passes when every story is on the stream exactly once and the last one arrived within
120 s of the last fault. Writes bench/results/faults.md."""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import redis
from newswire.services.polling.registry import Registry
from newswire.workers.site_server import LoopbackServer, _QuietHandler
from newswire.workers.stack import RedisProcess

from bench.corpus import corpus_root, load_pages
from bench.throughput import stop_processes, write_copies
from tests.support.processes import fault_env

RESULTS = Path(__file__).resolve().parent / "results"
STREAM = "newswire:articles"
KINDS = ("worker_kill", "redis_kill", "redis_restarts", "consumer_wedge")
# Redis kills of each kind, and the seconds between them.
KILLS = {"redis_kill": (1, 0.0), "redis_restarts": (4, 8.0), "redis_storm": (10, 3.0)}
BOUND = 120.0
COPIES = 3  # of each corpus page, as distinct stories: 543 a run


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class SlowPages(_QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 -- http.server names it
        if self.path.endswith(".html"):
            time.sleep(0.2)
        super().do_GET()


@dataclass(frozen=True)
class Run:
    kind: str
    stories: int
    missing: int
    doubled: int
    late_s: float  # the last story's arrival after the last fault (negative: before it)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.doubled and self.late_s <= BOUND


def one_run(kind: str, copies: int, tmp: Path) -> Run:
    site_dir = tmp / "site"
    site_dir.mkdir(parents=True)
    site = LoopbackServer(partial(SlowPages, directory=str(site_dir)))
    feeds = write_copies(load_pages(corpus_root()), site_dir, site.base, copies)
    expected = {line for f in site_dir.glob("t*.rss") for line in links_of(f.read_text())}
    server = RedisProcess(tmp / "redis")
    server.start()
    env = {**os.environ, **fault_env("wedge"), "NEWSWIRE_REDIS_URL": server.url, "NEWSWIRE_DATA_DIR": str(tmp / "data"),
           "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port, "NEWSWIRE_HOST_RATE": "1000",
           "NEWSWIRE_HOST_BURST": "1000"}  # fmt: skip
    cmd = [sys.executable, "-m", "newswire.workers.cli"]
    out = (tmp / "stack.log").open("ab")

    def worker(n: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen([*cmd, "worker", "-n", f"w{n}@%h", "--concurrency", "2"], env=env,
                                stdout=out, stderr=out, start_new_session=True)  # fmt: skip

    procs = [worker(0), subprocess.Popen([*cmd, "beat"], env=env, stdout=out, stderr=out,
                                         start_new_session=True)]  # fmt: skip
    client = redis.Redis.from_url(server.url, socket_timeout=5)
    try:
        time.sleep(3)
        registry = Registry(client)
        for url in feeds:
            registry.add(url, 3600)
        while safe_len(client) < len(expected) // 5:
            time.sleep(0.05)
        last_fault = fault(kind, server, procs, worker)
        deadline = time.monotonic() + 600
        # Until every story is out, not until the stream is as long as the stories: a story
        # doubled would end the wait with another one still on its way (late, not lost).
        while time.monotonic() < deadline and (
            safe_len(client) < len(expected) or expected - stream_urls(client).keys()
        ):
            if procs[0].poll() is not None:  # exited (the stall watchdog): restarted
                procs[0] = worker(2)
            time.sleep(0.5)
        time.sleep(3)  # anything doubled late shows up too
        entries = client.xrange(STREAM)
    finally:
        stop_processes(procs)
        out.close()
        client.close()
        server.stop()
        site.close()
    urls = urls_of(entries)
    last = max(int(i.split(b"-")[0]) for i, _f in entries) / 1000 if entries else 0.0
    missing, doubled = expected - set(urls), {u for u, n in urls.items() if n > 1}
    if missing or doubled:  # for the post-mortem: which stories, and their entries
        shown = [(i.decode(), f[b"data"].decode()) for i, f in entries
                 if any(u in f[b"data"].decode() for u in missing | doubled)]  # fmt: skip
        (tmp / "verdict.txt").write_text(
            f"last fault at {last_fault:.3f}\nmissing: {sorted(missing)}\n"
            f"doubled: {sorted(doubled)}\n" + "".join(f"{i} {d}\n" for i, d in shown)
        )
    return Run(kind, len(expected), len(missing), len(doubled), last - last_fault)


def urls_of(entries: list[tuple[bytes, dict[bytes, bytes]]]) -> Counter[str]:
    """How many stream entries each story's URL has."""
    return Counter(
        (f[b"data"].split(b'"url":"', 1)[1].split(b'"', 1)[0]).decode() for _i, f in entries
    )


def stream_urls(client: redis.Redis) -> Counter[str]:
    """urls_of the stream, or nothing while Redis is away."""
    try:
        return urls_of(client.xrange(STREAM))
    except redis.RedisError:
        return Counter()


def links_of(feed: str) -> list[str]:
    return [part.split("</link>", 1)[0] for part in feed.split("<link>")[1:]]


def safe_len(client: redis.Redis) -> int:
    """The stream's length, or 0 while Redis is away."""
    try:
        return int(client.xlen(STREAM))
    except redis.RedisError:
        return 0


def fault(kind: str, server: RedisProcess, procs: list[subprocess.Popen[bytes]], worker) -> float:  # type: ignore[no-untyped-def]
    """Inject the fault; the wall time of its last blow."""
    if kind == "consumer_wedge":
        os.kill(procs[0].pid, signal.SIGUSR2)
        return time.time()
    if kind == "worker_kill":
        os.killpg(procs[0].pid, signal.SIGKILL)
        procs[0].wait(10)
        at = time.time()
        procs[0] = worker(1)
        return at
    at = 0.0
    kills, gap = KILLS[kind]
    for n in range(kills):
        if n:
            time.sleep(gap)
        server.kill()
        at = time.time()
        time.sleep(1)
        server.start()
    return at


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--copies", type=int, default=COPIES)
    args = parser.parse_args()
    runs: list[Run] = []
    for kind in args.kinds.split(","):
        for n in range(args.runs):
            tmp = Path(tempfile.mkdtemp(prefix="newswire-faults-"))
            run = one_run(kind, args.copies, tmp)
            runs.append(run)
            log(f"{kind} {n + 1}/{args.runs}: missing {run.missing}, doubled {run.doubled}, "
                f"last story {run.late_s:.1f} s after the last fault {'ok' if run.ok else 'FAILED'}")  # fmt: skip
            if run.ok:
                shutil.rmtree(tmp, ignore_errors=True)
            else:  # the logs, Redis' file and verdict.txt (which stories) kept
                log(f"kept {tmp} for a post-mortem")
    rows = []
    for kind in args.kinds.split(","):
        mine = [r for r in runs if r.kind == kind]
        late = [r.late_s for r in mine]
        rows.append(
            f"| {kind} | {sum(r.ok for r in mine)}/{len(mine)} | {sum(r.missing for r in mine)} | "
            f"{sum(r.doubled for r in mine)} | {statistics.median(late):.1f} / {max(late):.1f} |"
        )
    # Other kinds or copies than the default write their own file: faults.md keeps the loops.
    usual_kinds = args.kinds == ",".join(KINDS)
    default = usual_kinds and args.copies == COPIES
    asked = ("" if usual_kinds else f" --kinds {args.kinds}") + (
        f" --copies {args.copies}" if args.copies != COPIES else ""
    )
    name = "faults.md" if default else f"faults-{args.kinds.replace(',', '-')}.md"
    report = (
        f"# Fault checks on default settings\n\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on "
        f"{os.cpu_count()} cores; `python -m bench.faults --runs {args.runs}{asked}` "
        f"({runs[0].stories} "
        "stories a run, pages answered after 0.2 s, one worker `--concurrency 2` and the "
        "scheduler on default timing settings, Redis AOF fsync always).\n\n"
        "| fault | runs passed | missing | doubled | last story after the last fault, "
        "median / max (s) |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(report)
    print(report)
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
