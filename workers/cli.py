"""The `newswire` command line: one subcommand per thing a user does."""

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import redis

from services.broker import open_redis
from services.errors import BrokerError, ConfigError, RefusedURL
from services.feedlist import parse_feed_list, to_opml
from services.ingest import FeedReport, Outcome
from services.registry import Registry
from services.settings import Settings
from services.status import StatusReader
from services.subscribe import (
    DEAD_SUFFIX,
    ack,
    dead_letters,
    ensure_group,
    read,
    read_group,
    requeue,
)
from workers.runtime import build_runtime, load_settings
from workers.status_page import ago

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_BROKER = 3

PASSTHROUGH = frozenset({"worker", "up"})
Handler = Callable[[argparse.Namespace], int]


def cmd_ingest(args: argparse.Namespace) -> int:
    """Poll each feed once and push its new entries through the whole pipeline here."""
    runtime = build_runtime(load_settings())
    totals: dict[str, int] = dict.fromkeys((o.value for o in Outcome), 0)
    try:
        for url in args.feeds:
            report = runtime.pipeline.ingest_feed(url, progress=progress_printer(url, args.json))
            for outcome, n in report.counts.items():
                totals[outcome.value] += n
            if args.json:
                print(json.dumps(report_json(report)), flush=True)
            else:
                print(report.line(), flush=True)
    finally:
        runtime.close()
    if not args.json and len(args.feeds) > 1:
        print("total: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in totals.items()))
    return EXIT_OK


def progress_printer(url: str, quiet: bool) -> Callable[[int, int], None] | None:
    """A live `i/n` line on a terminal's stderr; nothing when piped or with --json."""
    if quiet or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\r\033[K" if done == total else ""
        print(f"\r  {url}: {done}/{total}{end}", end="", file=sys.stderr, flush=True)

    return show


def report_json(report: FeedReport) -> dict[str, object]:
    return {
        "feed": report.url,
        "counts": {o.value: report.counts[o] for o in Outcome},
        "error": report.error,
        "moved_to": report.moved_to,
        "not_modified": report.not_modified,
        "salvaged": report.salvaged,
        "entries": [
            {"outcome": r.outcome.value, "link": r.link, "reason": r.reason, "id": r.article_id}
            for r in report.results
        ],
    }


def cmd_tail(args: argparse.Namespace) -> int:
    """Print articles from the stream, as a plain reader or as a consumer-group member."""
    settings = load_settings()
    client = open_redis(settings)
    stream = settings.stream
    start = "0" if args.from_start else (args.start or "$")
    if args.group:
        ensure_group(client, stream, args.group, "0" if args.from_start else "$")
        deliveries = read_group(
            client, stream, args.group, args.consumer, count=args.count, follow=args.follow
        )
    else:
        deliveries = read(client, stream, start=start, count=args.count, follow=args.follow)
    try:
        for delivery in deliveries:
            if args.json:
                sys.stdout.write(delivery.raw.decode() + "\n")
            else:
                a = delivery.article
                when = a.published_at.isoformat() if a.published_at else "-"
                print(f"{delivery.entry_id}  {when}  [{a.extraction}] {a.title}  <{a.url}>")
            sys.stdout.flush()
            if args.group:
                ack(client, stream, args.group, delivery.entry_id)
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """Workers, queues, scheduler, streams and feeds, from Redis."""
    settings = load_settings()
    status = StatusReader(open_redis(settings), settings).collect()
    if args.json:
        print(status.model_dump_json(indent=2))
        return EXIT_OK
    now = status.generated_at
    print("ready" if status.ready else "NOT READY: " + "; ".join(status.reasons))
    print("\nworkers")
    if status.workers:
        header = ("NAME", "STATE", "ACTIVE", "PROCESSED", "POOL", "HEARTBEAT")
        print_table([header] + [
            (w.name, w.state, str(w.active), str(w.processed), str(w.pool),
             ago(w.last_heartbeat, now))
            for w in status.workers
        ], indent=2)  # fmt: skip
    else:
        print("  none has reported: start one with `newswire worker` or `newswire up`")
    print("\nqueues   " + "   ".join(f"{q.name} {q.length}" for q in status.queues))
    s = status.scheduler
    state = "active" if s.fresh else "NO HEARTBEAT"
    print(f"scheduler {state}: {s.active_instance or 'none'}, last tick {ago(s.last_tick, now)}")
    for stream in status.streams:
        span = f"{ago(stream.first_entry_at, now)} .. {ago(stream.last_entry_at, now)}"
        print(f"\nstream {stream.name}: {stream.length} entries ({span}), "
              f"{sum(stream.per_minute)} in the last hour")  # fmt: skip
        if stream.groups:
            print_table([("GROUP", "CONSUMERS", "PENDING", "LAG")] + [
                (g.name, str(g.consumers), str(g.pending), "?" if g.lag is None else str(g.lag))
                for g in stream.groups
            ], indent=2)  # fmt: skip
    f = status.feeds
    print(f"\nfeeds {f.total}: {f.healthy} healthy, {f.backing_off} backing off, "
          f"{f.failing} failing, {f.disabled} disabled")  # fmt: skip
    if f.worst:
        print_table([("FEED", "HEALTH", "ERRORS", "LAST ERROR", "NEXT ATTEMPT")] + [
            (p.url, p.health, str(p.error_count), p.last_error or "", ago(p.next_attempt, now))
            for p in f.worst
        ], indent=2)  # fmt: skip
    return EXIT_OK


def cmd_ping(args: argparse.Namespace) -> int:
    """Health checks for containers: exit 0 when the thing asked about answers."""
    if args.monitor:
        try:
            with urllib.request.urlopen(args.monitor, timeout=5) as resp:  # noqa: S310 -- operator's URL
                ok = resp.status == 200
        except OSError as exc:
            print(f"monitor did not answer: {exc}", file=sys.stderr)
            return 1
        return EXIT_OK if ok else 1
    settings = load_settings()
    client = open_redis(settings)  # raises BrokerError (exit 3) when Redis is down
    if args.scheduler:
        scheduler = StatusReader(client, settings).scheduler(time.time())
        if not scheduler.fresh:
            print("no scheduler heartbeat", file=sys.stderr)
            return 1
        print(f"scheduler {scheduler.active_instance} ticking")
    if args.worker:
        from workers.celery_app import make_app  # noqa: PLC0415

        replies = make_app(settings).control.ping(destination=[args.worker], timeout=5)
        if not replies:
            print(f"worker {args.worker} did not answer", file=sys.stderr)
            return 1
        print(f"worker {args.worker} answered")
    return EXIT_OK


def cmd_monitor(args: argparse.Namespace) -> int:
    from workers.monitor import serve  # noqa: PLC0415

    settings = load_settings()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    port = settings.monitor_port if args.port is None else args.port
    with contextlib.suppress(KeyboardInterrupt):
        serve(settings, args.host or settings.monitor_host, port, stop)
    return EXIT_OK


def cmd_dead(args: argparse.Namespace) -> int:
    """List dead letters (entries a consumer group gave up on), or requeue them."""
    settings = load_settings()
    client = open_redis(settings)
    letters = dead_letters(client, settings.stream, count=args.count)
    if args.requeue_all or args.requeue:
        wanted = {d.entry_id for d in letters} if args.requeue_all else set(args.requeue)
        done = [i for i in sorted(wanted) if requeue(client, settings.stream, i)]
        print(
            f"requeued {len(done)} dead letters"
            + (f" of {len(wanted)}" if len(done) < len(wanted) else "")
        )
        return EXIT_OK if len(done) == len(wanted) else 1
    if args.json:
        for d in letters:
            print(json.dumps(dataclasses.asdict(d)))
        return EXIT_OK
    if not letters:
        print(f"no dead letters on {settings.stream}{DEAD_SUFFIX}")
        return EXIT_OK
    print_table([("DEAD ID", "GROUP", "ARTICLE", "REASON")]
                + [(d.entry_id, d.group, d.article_id, d.reason) for d in letters])  # fmt: skip
    return EXIT_OK


def _registry(settings: Settings) -> tuple[redis.Redis, Registry]:
    client = open_redis(settings)
    return client, Registry(client, settings.key_prefix, settings.poll_interval)


def cmd_feeds_add(args: argparse.Namespace) -> int:
    settings = load_settings()
    _client, registry = _registry(settings)
    for url in args.urls:
        try:
            state = registry.add(url, args.interval)
        except RefusedURL as exc:
            print(f"newswire: not adding {url}: {exc.reason}", file=sys.stderr)
            return EXIT_CONFIG
        print(f"added {state.url} (every {state.interval}s)")
    return EXIT_OK


def cmd_feeds_remove(args: argparse.Namespace) -> int:
    _client, registry = _registry(load_settings())
    missing = [url for url in args.urls if not registry.remove(url)]
    for url in missing:
        print(f"newswire: {url} was not registered", file=sys.stderr)
    return EXIT_OK if not missing else 1


def cmd_feeds_list(args: argparse.Namespace) -> int:
    _client, registry = _registry(load_settings())
    feeds = registry.all()
    if args.json:
        print(json.dumps([f.model_dump(mode="json") for f in feeds], indent=2))
        return EXIT_OK
    if not feeds:
        print("no feeds registered: add some with `newswire feeds add URL`")
        return EXIT_OK
    now = time.time()
    rows = [("URL", "EVERY", "STATUS", "ERRORS", "NEXT POLL", "LAST ERROR")]
    for f in feeds:
        due = "disabled" if not f.enabled else ago(f.next_due, now)
        rows.append((f.url, f"{f.interval}s", f.last_status or "new", str(f.error_count), due,
                     f.disabled_reason or f.last_error or ""))  # fmt: skip
    print_table(rows)
    return EXIT_OK


def cmd_feeds_import(args: argparse.Namespace) -> int:
    _client, registry = _registry(load_settings())
    try:
        specs = parse_feed_list(Path(args.file).read_bytes(), args.file)
    except OSError as exc:
        raise ConfigError(f"cannot read {args.file}: {exc.strerror}") from None
    added, refused = 0, 0
    for spec in specs:
        try:
            registry.add(spec.url, spec.interval or args.interval)
            added += 1
        except RefusedURL as exc:
            refused += 1
            print(f"skipped {spec.url}: {exc.reason}", file=sys.stderr)
    print(f"imported {added} feeds from {args.file}" + (f", skipped {refused}" if refused else ""))
    return EXIT_OK


def cmd_feeds_export(args: argparse.Namespace) -> int:
    _client, registry = _registry(load_settings())
    sys.stdout.write(to_opml(registry.all()))
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    """Run a Celery worker on the feeds and articles queues (extra args go to Celery)."""
    from workers.celery_app import ARTICLES_QUEUE, FEEDS_QUEUE, make_app  # noqa: PLC0415

    app = make_app(load_settings())
    extra = list(args.celery_args)
    argv = ["worker", "--loglevel", "INFO"]
    if not any(a in ("-Q", "--queues") or a.startswith("--queues=") for a in extra):
        argv += ["-Q", f"{FEEDS_QUEUE},{ARTICLES_QUEUE}"]
    app.worker_main(argv + extra)
    return EXIT_OK


def cmd_beat(args: argparse.Namespace) -> int:
    """Run the scheduler until SIGINT/SIGTERM."""
    from workers.celery_app import make_app  # noqa: PLC0415
    from workers.scheduler import run_scheduler  # noqa: PLC0415

    settings = load_settings()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_scheduler(settings, make_app(settings), stop)
    return EXIT_OK


def cmd_up(args: argparse.Namespace) -> int:
    from workers.stack import Stack  # noqa: PLC0415

    settings = load_settings()
    redis_url = os.environ.get("NEWSWIRE_REDIS_URL")
    stack = Stack(Path(settings.data_dir), redis_url)
    url = stack.start(list(args.celery_args))
    print(f"newswire up: Redis at {url}" + ("" if redis_url else f" (data in {settings.data_dir})"))
    print("worker and scheduler running; Ctrl-C stops everything")
    try:
        while stack.alive():
            time.sleep(0.5)
        print("newswire: a child process exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        stack.stop()


def cmd_demo(args: argparse.Namespace) -> int:
    from workers.demo import run_demo  # noqa: PLC0415

    return run_demo(timeout=args.timeout)


def print_table(rows: Sequence[Sequence[str]], indent: int = 0) -> None:
    """Aligned columns, the header row first."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        print(" " * indent + line)


def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915 -- one flat list of commands
    parser = argparse.ArgumentParser(
        prog="newswire",
        description="Poll news feeds, extract each article, publish one clean Article per story "
        "to a Redis Stream. Settings come from NEWSWIRE_* environment variables (see README).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ingest = sub.add_parser(
        "ingest",
        help="poll feeds once and publish their new stories (no workers needed)",
        description="Poll each feed once, run every new entry through the pipeline in this "
        "process and publish it. Prints one summary line per feed. Exits 0 when the run "
        "completed, even if some entries failed; 3 when Redis is unreachable, 2 on bad settings.",
    )
    ingest.add_argument("feeds", nargs="+", metavar="FEED_URL", help="RSS or Atom feed URL")
    ingest.add_argument("--json", action="store_true", help="one JSON report per feed")
    ingest.set_defaults(handler=cmd_ingest)

    tail = sub.add_parser(
        "tail",
        help="print articles from the stream",
        description="Print articles from the stream. By default only new ones; with --group, "
        "as a member of a consumer group, acknowledging each article once printed.",
    )
    tail.add_argument("--json", action="store_true", help="one Article JSON per line")
    tail.add_argument("--count", "-n", type=int, default=None, help="stop after N articles")
    where = tail.add_mutually_exclusive_group()
    where.add_argument("--from-start", action="store_true", help="start at the oldest entry")
    where.add_argument("--from", dest="start", metavar="ID", help="start after this entry id")
    tail.add_argument("--follow", "-f", action="store_true", help="keep waiting for new articles")
    tail.add_argument("--group", help="read as a member of this consumer group")
    tail.add_argument("--consumer", default="tail", help="consumer name within --group")
    tail.set_defaults(handler=cmd_tail)

    status = sub.add_parser(
        "status",
        help="workers, queues, scheduler, streams and feeds at a glance",
        description="Show workers (offline ones too), queue lengths, the active scheduler, "
        "the stream with its consumer groups' pending entries and lag, and feed health.",
    )
    status.add_argument("--json", action="store_true", help="the same as the monitor's /api/status")
    status.set_defaults(handler=cmd_status)

    ping = sub.add_parser(
        "ping",
        help="health check: Redis, a worker, the scheduler or the monitor",
        description="Exit 0 when Redis answers and, if asked, the named worker answers a "
        "ping through the broker, the scheduler's heartbeat is fresh, or the monitor URL "
        "answers 200. For container health checks.",
    )
    ping.add_argument("--worker", metavar="NAME", help="worker node name, e.g. newswire@host")
    ping.add_argument("--scheduler", action="store_true", help="the scheduler ticked recently")
    ping.add_argument("--monitor", metavar="URL", help="GET this URL (no Redis needed)")
    ping.set_defaults(handler=cmd_ping)

    monitor = sub.add_parser(
        "monitor",
        help="serve /healthz, /readyz, /metrics, /api/status and a status page",
        description="Run the monitor HTTP service: /healthz (process up), /readyz (Redis, a "
        "worker and the scheduler up; 503 otherwise), /metrics (Prometheus), /api/status "
        "(JSON) and / (the status page).",
    )
    monitor.add_argument("--host", help="address to listen on (NEWSWIRE_MONITOR_HOST)")
    monitor.add_argument("--port", type=int, help="port (NEWSWIRE_MONITOR_PORT, default 8787)")
    monitor.set_defaults(handler=cmd_monitor)

    dead = sub.add_parser(
        "dead",
        help="list or requeue dead letters",
        description="Entries a consumer group failed to handle too many times are moved to "
        "the dead-letter stream (<stream>:dead) with the reason. List them, or requeue them "
        "for the group that failed them (other groups do not see them again).",
    )
    dead.add_argument("--json", action="store_true", help="one JSON object per dead letter")
    dead.add_argument("--count", type=int, default=100, help="at most this many (newest first)")
    dead.add_argument("--requeue", nargs="+", metavar="DEAD_ID", default=[], help="requeue these")
    dead.add_argument("--requeue-all", action="store_true", help="requeue every dead letter")
    dead.set_defaults(handler=cmd_dead)

    feeds = sub.add_parser("feeds", help="manage the registered feeds")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)
    add = feeds_sub.add_parser("add", help="register feeds (polled from now on)")
    add.add_argument("urls", nargs="+", metavar="URL")
    add.add_argument("--interval", type=int, help="seconds between polls (default from settings)")
    add.set_defaults(handler=cmd_feeds_add)
    remove = feeds_sub.add_parser("remove", help="unregister feeds")
    remove.add_argument("urls", nargs="+", metavar="URL")
    remove.set_defaults(handler=cmd_feeds_remove)
    listing = feeds_sub.add_parser("list", help="registered feeds and their health")
    listing.add_argument("--json", action="store_true", help="the full state of each feed")
    listing.set_defaults(handler=cmd_feeds_list)
    imp = feeds_sub.add_parser("import", help="register the feeds of an OPML or YAML file")
    imp.add_argument("file", metavar="FILE", help="OPML 2.0 export, or YAML list of URLs")
    imp.add_argument("--interval", type=int, help="seconds between polls where the file has none")
    imp.set_defaults(handler=cmd_feeds_import)
    exp = feeds_sub.add_parser("export", help="print the registered feeds as OPML")
    exp.set_defaults(handler=cmd_feeds_export)

    worker = sub.add_parser(
        "worker",
        help="run a Celery worker (options after it go to Celery)",
        description="Run a Celery worker on the feeds and articles queues. Options are passed "
        "to `celery worker`, e.g. `newswire worker -n w1@%%h --concurrency 2`.",
    )
    worker.set_defaults(handler=cmd_worker)

    beat = sub.add_parser(
        "beat",
        help="run the scheduler that enqueues due feed polls",
        description="Run the scheduler. Several may run: one is active, the others wait as "
        "standbys and take over within seconds if it stops.",
    )
    beat.set_defaults(handler=cmd_beat)

    up = sub.add_parser(
        "up",
        help="run everything on this machine: Redis (if needed), a worker, the scheduler",
        description="Start a worker and the scheduler as child processes. Without "
        "NEWSWIRE_REDIS_URL a private redis-server is started too, its data under "
        "NEWSWIRE_DATA_DIR. Ctrl-C stops all of them. Extra options go to the worker.",
    )
    up.set_defaults(handler=cmd_up)

    demo = sub.add_parser(
        "demo",
        help="serve a generated news site and run the whole stack on it",
        description="Generate a small news site on loopback, run newswire on it with a "
        "private Redis, print each article as it lands, then `published N articles`.",
    )
    demo.add_argument("--timeout", type=float, default=180, help="give up after this many seconds")
    demo.set_defaults(handler=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # `worker` and `up` pass options they do not know on to Celery's worker.
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in PASSTHROUGH:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.celery_args = [a for a in extra if a != "--"]
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"newswire: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokerError as exc:
        print(f"newswire: {exc}", file=sys.stderr)
        return EXIT_BROKER


if __name__ == "__main__":
    sys.exit(main())
