"""Watching newswire from the command line: tail, status, dead letters, ping, the monitor, the
WebSub receiver."""

import argparse
import contextlib
import dataclasses
import json
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime

from newswire.schemas.status import WorkerStatus
from newswire.services import keys
from newswire.services.delivery.calls import EVENT_UPDATED
from newswire.services.delivery.deadletters import ENTRY_ID, dead_letters, requeue
from newswire.services.delivery.publish import Publisher
from newswire.services.delivery.subscribe import Consumer, Delivery, read
from newswire.services.ops.status import StatusReader
from newswire.services.settings import Settings
from newswire.workers.cli_args import (
    DeadArgs,
    MonitorArgs,
    PingArgs,
    StatusArgs,
    StoryArgs,
    TailArgs,
    WebSubArgs,
    bind,
)
from newswire.workers.cli_output import (
    EXIT_CONFIG,
    EXIT_NOT_FOUND,
    EXIT_OK,
    connect,
    positive_int,
    print_table,
)
from newswire.workers.runtime import load_settings
from newswire.workers.stopping import stop_on
from newswire.workers.timefmt import ago, span


def cmd_tail(args: TailArgs) -> int:
    """Print articles from the stream, as a plain reader or as a consumer-group member."""
    settings = load_settings()
    client = connect(settings)
    stream = settings.stream
    start = "0" if args.from_start else (args.start or "$")

    def show(delivery: Delivery) -> None:
        if args.json:
            sys.stdout.write(delivery.raw.decode() + "\n")
        else:
            a = delivery.article
            when = a.published_at.isoformat() if a.published_at else "-"
            change = f" (v{a.version})" if delivery.event == EVENT_UPDATED else ""
            print(f"{delivery.entry_id}  {when}  [{a.extraction}]{change} {a.title}  <{a.url}>")
        sys.stdout.flush()

    try:
        if args.group:
            # A group member like any other: its own pending entries first, entries a dead
            # member left pending claimed, each acked once printed (at least once).
            Consumer(
                client, stream, args.group, args.consumer,
                start="0" if args.from_start else "$",
                claim_idle_ms=int(args.claim_idle * 1000),
            ).run_deliveries(show, count=args.count, until_idle=not args.follow)  # fmt: skip
        else:
            for delivery in read(client, stream, start=start, count=args.count, follow=args.follow):
                show(delivery)
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
    return EXIT_OK


def worker_state(worker: WorkerStatus, now: float) -> str:
    """'online', or e.g. 'reconnecting (12s)', 'STALLED (95s)'."""
    if worker.state in ("reconnecting", "stalled") and worker.not_consuming_since:
        label = worker.state if worker.state == "reconnecting" else "STALLED"
        return f"{label} ({now - worker.not_consuming_since:.0f}s)"
    return worker.state


def cmd_status(args: StatusArgs) -> int:
    """Workers, queues, scheduler, streams and feeds, from Redis."""
    settings = load_settings()
    status = StatusReader(connect(settings), settings).collect()
    if args.json:
        print(status.model_dump_json(indent=2))
        return EXIT_OK
    now = status.generated_at
    print("ready" if status.ready else "NOT READY: " + "; ".join(status.reasons))
    print("\nworkers")
    if status.workers:
        header = ("NAME", "STATE", "ACTIVE", "PROCESSED", "POOL", "RESTARTS", "HEARTBEAT")
        print_table([header] + [
            (w.name, worker_state(w, now), str(w.active), str(w.processed), str(w.pool),
             str(w.restarts), ago(w.last_heartbeat, now))
            for w in status.workers
        ], indent=2)  # fmt: skip
    else:
        print("  none has reported: start one with `newswire worker` or `newswire up`")
    print("\nqueues   " + "   ".join(f"{q.name} {q.length}" for q in status.queues)
          + f"   (entries in flight {status.pending_entries})")  # fmt: skip
    s = status.scheduler
    state = "active" if s.fresh else "NO HEARTBEAT"
    restarts = f", restarted {s.restarts}x" if s.restarts else ""
    print(
        f"scheduler {state}: {s.active_instance or 'none'}, last tick {ago(s.last_tick, now)}"
        + restarts
    )
    for stream in status.streams:
        window = f"{ago(stream.first_entry_at, now)} .. {ago(stream.last_entry_at, now)}"
        print(f"\nstream {stream.name}: {stream.length} entries ({window}), "
              f"{sum(stream.per_minute)} in the last hour")  # fmt: skip
        if stream.groups:
            print_table([("GROUP", "CONSUMERS", "PENDING", "LAG")] + [
                (g.name, str(g.consumers), str(g.pending), "?" if g.lag is None else str(g.lag))
                for g in stream.groups
            ], indent=2)  # fmt: skip
    for sink in status.sinks:
        behind = "?" if sink.lag is None else str(sink.lag)
        print(f"  sink {sink.name}: {sink.written} written, {sink.dead_letter} refused "
              f"(dead letters), {sink.retried} retried; {behind} behind")  # fmt: skip
    f = status.feeds
    print(f"\nfeeds {f.total}: {f.healthy} healthy, {f.backing_off} backing off, "
          f"{f.failing} failing, {f.disabled} disabled")  # fmt: skip
    if f.intervals and any(f.intervals.values()):
        spread = ", ".join(
            f"{'over 6h' if bound == '+Inf' else '≤' + span(float(bound))} {n}"
            for bound, n in f.intervals.items() if n
        )  # fmt: skip
        print(f"  polled every: {spread} ({f.adaptive} learning their interval)")
    seen = [lat for lat in status.latency if lat.count and lat.p50 is not None]
    for lat in seen:
        what = "publication" if lat.name.startswith("publication") else "the poll that saw them"
        stories = "story" if lat.count == 1 else "stories"
        print(f"  stories reach the stream from {what}: p50 {span(lat.p50 or 0)}, "
              f"p95 {span(lat.p95 or 0)} ({lat.count} {stories})")  # fmt: skip
    if f.websub:
        states = ", ".join(f"{state} {n}" for state, n in f.websub.items())
        print(f"  WebSub subscriptions: {states} (active: pushed to us, polled as a safety net)")
    if f.worst:
        print_table([("FEED", "HEALTH", "ERRORS", "LAST ERROR", "NEXT ATTEMPT")] + [
            (p.url, p.health, str(p.error_count), p.last_error or "", ago(p.next_attempt, now))
            for p in f.worst
        ], indent=2)  # fmt: skip
    return EXIT_OK


def cmd_ping(args: PingArgs) -> int:
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
    client = connect(settings)  # raises BrokerError (exit 3) when Redis is down
    if args.scheduler:
        scheduler = StatusReader(client, settings).scheduler(time.time())
        if not scheduler.fresh:
            print("no scheduler heartbeat", file=sys.stderr)
            return 1
        print(f"scheduler {scheduler.active_instance} ticking")
    if args.worker:
        from newswire.workers.celery_app import make_app  # noqa: PLC0415

        now = time.time()
        for worker in StatusReader(client, settings).workers(now):
            if worker.name == args.worker and worker.state == "stalled":
                print(f"worker {args.worker} is {worker_state(worker, now)}", file=sys.stderr)
                return 1
        replies = make_app(settings).control.ping(destination=[args.worker], timeout=5)
        if not replies:
            print(f"worker {args.worker} did not answer", file=sys.stderr)
            return 1
        print(f"worker {args.worker} answered")
    return EXIT_OK


Serve = Callable[[Settings, str, int, threading.Event], None]


def serve_until_stopped(serve: Serve, settings: Settings, host: str, port: int) -> int:
    """Run an HTTP service (the monitor, the WebSub receiver) until SIGTERM or Ctrl-C."""
    stop = threading.Event()
    stop_on(stop, signal.SIGTERM)
    with contextlib.suppress(KeyboardInterrupt):
        serve(settings, host, port, stop)
    return EXIT_OK


def cmd_monitor(args: MonitorArgs) -> int:
    from newswire.workers.monitor import serve  # noqa: PLC0415

    settings = load_settings()
    port = settings.monitor_port if args.port is None else args.port
    return serve_until_stopped(serve, settings, args.host or settings.monitor_host, port)


def cmd_websub(args: WebSubArgs) -> int:
    from newswire.workers.websub import serve  # noqa: PLC0415

    settings = load_settings()
    port = settings.websub_port if args.port is None else args.port
    return serve_until_stopped(serve, settings, args.host or settings.websub_host, port)


def cmd_dead(args: DeadArgs) -> int:
    """List dead letters (entries a consumer group gave up on), or requeue them."""
    settings = load_settings()
    client = connect(settings)
    bad = [i for i in args.requeue if not ENTRY_ID.fullmatch(i)]
    if bad:
        print(f"newswire: {bad[0][:100]!r} is not a dead letter id (e.g. 1764950400000-0): "
              "`newswire dead` lists them", file=sys.stderr)  # fmt: skip
        return EXIT_CONFIG
    # Every letter for --requeue-all; --count only limits the listing.
    letters = dead_letters(client, settings.stream, None if args.requeue_all else args.count)
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
        print(f"no dead letters on {keys.dead_letters(settings.stream)}")
        return EXIT_OK
    print_table([("DEAD ID", "GROUP", "ARTICLE", "REASON")]
                + [(d.entry_id, d.group, d.article_id, d.reason) for d in letters])  # fmt: skip
    return EXIT_OK


def cmd_story(args: StoryArgs) -> int:
    """Show what newswire knows of one story: version, cluster, aliases, how long it is kept."""
    settings = load_settings()
    client = connect(settings)
    try:
        record = Publisher(client, settings).describe(args.story)
    finally:
        client.close()
    if record is None:
        print(f"newswire: no story known by {args.story}", file=sys.stderr)
        return EXIT_NOT_FOUND
    if args.json:
        print(json.dumps(dataclasses.asdict(record)))
        return EXIT_OK
    if not record.version:
        print(f"{record.story_id}: known (rejected, or published before story state was kept)")
        return EXIT_OK
    when = datetime.fromtimestamp(record.first_published, UTC).isoformat(timespec="seconds")
    rows = [
        ("story", record.story_id),
        ("version", str(record.version)),
        (
            "cluster",
            record.cluster_id + (" (its own)" if record.cluster_id == record.story_id else ""),
        ),
        ("first published", when),
        ("latest entry", record.last_entry),
        ("content hash", record.content_hash),
        ("kept for", f"{record.ttl_seconds / 86400:.1f} more days"),
    ]
    rows += [("alias", link) for link in record.aliases]
    print_table(rows)
    return EXIT_OK


def add_parsers(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    tail = sub.add_parser(
        "tail",
        help="print articles from the stream",
        description="Print articles from the stream. By default only new ones; with --group, "
        "as a member of a consumer group, acknowledging each article once printed.",
    )
    tail.add_argument("--json", action="store_true", help="one Article JSON per line")
    tail.add_argument(
        "--count", "-n", type=positive_int, default=None, help="stop after N articles"
    )
    where = tail.add_mutually_exclusive_group()
    where.add_argument("--from-start", action="store_true", help="start at the oldest entry")
    where.add_argument("--from", dest="start", metavar="ID", help="start after this entry id")
    tail.add_argument("--follow", "-f", action="store_true", help="keep waiting for new articles")
    tail.add_argument("--group", help="read as a member of this consumer group")
    tail.add_argument("--consumer", default="tail", help="consumer name within --group")
    tail.add_argument(
        "--claim-idle", type=float, default=60.0, metavar="SECONDS",
        help="with --group: take over entries another member left unacked this long (60)",
    )  # fmt: skip
    bind(tail, TailArgs, cmd_tail)

    status = sub.add_parser(
        "status",
        help="workers, queues, scheduler, streams and feeds at a glance",
        description="Show workers (offline ones too), queue lengths, the active scheduler, "
        "the stream with its consumer groups' pending entries and lag, and feed health.",
    )
    status.add_argument("--json", action="store_true", help="the same as the monitor's /api/status")
    bind(status, StatusArgs, cmd_status)

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
    bind(ping, PingArgs, cmd_ping)

    monitor = sub.add_parser(
        "monitor",
        help="serve /livez, /readyz, /metrics, /api/status and a status page",
        description="Run the monitor HTTP service: /livez (process up; /healthz too), /readyz "
        "(Redis, a worker and the scheduler up; 503 otherwise), /metrics (Prometheus), /api/status "
        "(JSON) and / (the status page).",
    )
    monitor.add_argument("--host", help="address to listen on (NEWSWIRE_MONITOR_HOST)")
    monitor.add_argument("--port", type=int, help="port (NEWSWIRE_MONITOR_PORT, default 8787)")
    bind(monitor, MonitorArgs, cmd_monitor)

    websub = sub.add_parser(
        "websub",
        help="receive WebSub pushes: the callback hubs call (its own port, nothing else on it)",
        description="Run the WebSub callback receiver: hubs verify subscriptions and push new "
        "content to /websub/<feed>.<token>. Put it behind a reverse proxy that terminates TLS "
        "at NEWSWIRE_WEBSUB_PUBLIC_URL; without that setting no feed is subscribed.",
    )
    websub.add_argument("--host", help="address to listen on (NEWSWIRE_WEBSUB_HOST)")
    websub.add_argument("--port", type=int, help="port (NEWSWIRE_WEBSUB_PORT, default 8788)")
    bind(websub, WebSubArgs, cmd_websub)

    dead = sub.add_parser(
        "dead",
        help="list or requeue dead letters",
        description="Entries a consumer group failed to handle too many times are moved to "
        "the dead-letter stream (<stream>:dead) with the reason. List them, or requeue them "
        "for the group that failed them (other groups do not see them again).",
    )
    dead.add_argument("--json", action="store_true", help="one JSON object per dead letter")
    dead.add_argument(
        "--count", type=positive_int, default=100, help="at most this many (newest first)"
    )
    dead.add_argument("--requeue", nargs="+", metavar="DEAD_ID", default=[], help="requeue these")
    dead.add_argument("--requeue-all", action="store_true", help="requeue every dead letter")
    bind(dead, DeadArgs, cmd_dead)

    story = sub.add_parser(
        "story",
        help="what newswire knows of one story (by id or any of its links)",
        description="Show a story's identity state: its version, near-duplicate cluster, the "
        "links found later to carry the same body, and how long it is kept. Exit 4 when no "
        "story is known by that id or link.",
    )
    story.add_argument("story", metavar="ID_OR_LINK", help="a story id or any link of the story")
    story.add_argument("--json", action="store_true", help="the record as one JSON object")
    bind(story, StoryArgs, cmd_story)
