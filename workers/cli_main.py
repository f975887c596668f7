"""The `newswire` command line: one subcommand per thing a user does."""

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from newswire.services.errors import BrokerError, ConfigError
from newswire.services.ingest.outcomes import FeedReport, Outcome
from newswire.services.redact import redact_logs, redact_text, redact_url
from newswire.workers import allocator, cli_acl, cli_batch, cli_feeds, cli_ops, cli_sink
from newswire.workers.cli_args import BeatArgs, DemoArgs, IngestArgs, UpArgs, WorkerArgs, bind
from newswire.workers.cli_output import (
    EXIT_BROKER,
    EXIT_CONFIG,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Printable,
    close_clients,
    progress_bar,
)
from newswire.workers.extract_pool import LazyProcessPool
from newswire.workers.runtime import build_runtime, load_settings
from newswire.workers.stopping import stop_on

PASSTHROUGH = frozenset({"worker", "up"})
SUPERVISE_EVERY = 1.0  # seconds between `newswire up`'s looks at its children
Handler = Callable[[argparse.Namespace], int]


def cmd_ingest(args: IngestArgs) -> int:
    """Poll each feed once and push its new entries through the whole pipeline here."""
    runtime = build_runtime(load_settings())
    totals: dict[str, int] = dict.fromkeys((o.value for o in Outcome), 0)
    processes = args.processes or os.cpu_count() or 1
    # Pages are extracted on every core; this process fetches, publishes and reports.
    pool = LazyProcessPool(processes) if processes > 1 else None
    runtime.pipeline.extractors = pool
    try:
        for position, url in enumerate(args.feeds, 1):
            # A registered feed is fetched with its own options (auth, proxy, tags...).
            label = redact_url(url)
            if len(args.feeds) > 1:
                label = f"[{position}/{len(args.feeds)}] {label}"
            report = runtime.pipeline.ingest_feed(
                url,
                progress=progress_bar(label, args.json),
                options=runtime.feed_options(url),
            )
            for outcome, n in report.counts.items():
                totals[outcome.value] += n
            if args.json:
                print(json.dumps(report_json(report)), flush=True)
            else:
                print(report.line(), flush=True)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        runtime.close()
    if not args.json and len(args.feeds) > 1:
        print("total: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in totals.items()))
    return EXIT_OK


def report_json(report: FeedReport) -> dict[str, object]:
    return {
        "feed": redact_url(report.url),
        "counts": {o.value: report.counts[o] for o in Outcome},
        "error": report.error,
        "error_kind": report.error_kind,
        "moved_to": report.moved_to,
        "not_modified": report.not_modified,
        "salvaged": report.salvaged,
        "cuts": report.cuts,
        "entries": [
            {
                "outcome": r.outcome.value,
                "link": r.link,
                "reason": r.reason,
                "kind": r.kind,
                "id": r.article_id,
            }
            for r in report.results
        ],
    }


def cmd_worker(args: WorkerArgs) -> int:
    """Run a Celery worker on the feeds and articles queues (extra args go to Celery)."""
    from newswire.services.keys import ARTICLES_QUEUE, FEEDS_QUEUE  # noqa: PLC0415
    from newswire.workers.celery_app import make_app  # noqa: PLC0415
    from newswire.workers.liveness import EXIT  # noqa: PLC0415

    settings = load_settings()
    allocator.check(settings.worker_allocator)  # the worker's entry chose it (workers/cli.py)
    app = make_app(settings)
    extra = list(args.celery_args)
    argv = ["worker", "--loglevel", "INFO"]
    if not any(a in ("-Q", "--queues") or a.startswith("--queues=") for a in extra):
        argv += ["-Q", f"{FEEDS_QUEUE},{ARTICLES_QUEUE}"]
    # Gossip and mingle are worker-to-worker chatter newswire does not use (status comes from
    # heartbeats in Redis); without them a reconnect has fewer moving parts.
    argv += ["--without-gossip", "--without-mingle"]
    app.worker_main(argv + extra)
    return EXIT.code  # non-zero after e.g. "Unrecoverable error", for the supervisor


def cmd_beat(args: BeatArgs) -> int:
    """Run the scheduler until SIGINT/SIGTERM."""
    from newswire.workers.celery_app import make_app  # noqa: PLC0415
    from newswire.workers.scheduler import run_scheduler  # noqa: PLC0415

    settings = load_settings()
    stop = threading.Event()
    stop_on(stop, signal.SIGINT, signal.SIGTERM)
    run_scheduler(settings, make_app(settings), stop)
    return EXIT_OK


def cmd_up(args: UpArgs) -> int:
    from newswire.workers.stack import Stack  # noqa: PLC0415

    settings = load_settings()
    # Ctrl-C, and SIGTERM from systemd or a container runtime, stop the children too; set
    # explicitly, since a parent may have started us with SIGINT ignored.
    stop = threading.Event()
    stop_on(stop, signal.SIGINT, signal.SIGTERM)
    redis_url = os.environ.get("NEWSWIRE_REDIS_URL")
    env = {"NEWSWIRE_FEEDS_FILE": str(Path(args.feeds).resolve())} if args.feeds else {}
    stack = Stack(
        Path(settings.data_dir),
        redis_url,
        env=env,
        say=lambda m: print(m, file=sys.stderr, flush=True),
        stall_seconds=settings.worker_stall_seconds,
        key_prefix=settings.key_prefix,
    )
    url = stack.start(list(args.celery_args), websub=bool(settings.websub_public_url))
    print(f"newswire up: Redis at {url}" + ("" if redis_url else f" (data in {settings.data_dir})"))
    if not redis_url:
        print(f"for other terminals: export NEWSWIRE_REDIS_URL={url}")
    receiver = " and the WebSub receiver" if settings.websub_public_url else ""
    print(f"worker, scheduler{receiver} running, restarted if they fail; Ctrl-C stops everything")
    sys.stdout.flush()
    try:
        while not stop.is_set():
            stack.supervise()
            stop.wait(SUPERVISE_EVERY)
    finally:
        stack.stop()
    return EXIT_OK


def cmd_demo(args: DemoArgs) -> int:
    from newswire.workers.demo import run_demo  # noqa: PLC0415

    return run_demo(timeout=args.timeout)


def build_parser() -> argparse.ArgumentParser:
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
    ingest.add_argument(
        "--processes", type=int, default=None, metavar="N",
        help="extraction processes for feeds of 16 entries or more (default: one per core)",
    )  # fmt: skip
    bind(ingest, IngestArgs, cmd_ingest)

    cli_ops.add_parsers(sub)

    cli_feeds.add_parsers(sub)

    cli_batch.add_parsers(sub)
    cli_acl.add_parsers(sub)
    cli_sink.add_parsers(sub)

    worker = sub.add_parser(
        "worker",
        help="run a Celery worker (options after it go to Celery)",
        description="Run a Celery worker on the feeds and articles queues. Options are passed "
        "to `celery worker`, e.g. `newswire worker -n w1@%%h --concurrency 2`.",
    )
    bind(worker, WorkerArgs, cmd_worker)

    beat = sub.add_parser(
        "beat",
        help="run the scheduler that enqueues due feed polls",
        description="Run the scheduler. Several may run: one is active, the others wait as "
        "standbys and take over within seconds if it stops.",
    )
    bind(beat, BeatArgs, cmd_beat)

    up = sub.add_parser(
        "up",
        help="run everything on this machine: Redis (if needed), a worker, the scheduler",
        description="Start a worker and the scheduler as child processes. Without "
        "NEWSWIRE_REDIS_URL a private redis-server is started too, its data under "
        "NEWSWIRE_DATA_DIR, on the same port each time. Ctrl-C stops all of them. Extra options "
        "go to the worker.",
    )
    up.add_argument("--feeds", metavar="FILE", help="OPML or YAML feed list to import at start")
    bind(up, UpArgs, cmd_up)

    demo = sub.add_parser(
        "demo",
        help="serve a generated news site and run the whole stack on it",
        description="Generate a small news site on loopback, run newswire on it with a "
        "private Redis, print each article as it lands, then `published N articles`.",
    )
    demo.add_argument("--timeout", type=float, default=180, help="give up after this many seconds")
    bind(demo, DemoArgs, cmd_demo)
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
    redact_logs()  # no credential from a feed or Redis URL reaches a log line
    if args.command not in PASSTHROUGH:
        # Feed content reaches the terminal through these only: no escape sequence gets by.
        sys.stdout, sys.stderr = Printable(sys.stdout), Printable(sys.stderr)
        for handler_ in logging.getLogger().handlers:
            if isinstance(handler_, logging.StreamHandler):
                handler_.setStream(sys.stderr)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"newswire: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokerError as exc:
        print(f"newswire: {exc}", file=sys.stderr)
        return EXIT_BROKER
    except KeyboardInterrupt:
        print("newswire: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        # A bug, not the user's doing: one line, the traceback only with -v.
        if args.verbose:
            logging.getLogger("newswire").error("internal error", exc_info=True)
        detail = (str(exc).splitlines() or [""])[0][:300]
        print(
            f"newswire: internal error ({type(exc).__name__}: {redact_text(detail)}); "
            "rerun with -v for the traceback, and please report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    finally:
        close_clients()
