"""`newswire sink KIND` (the stream delivered into another system) and `newswire search`."""

import argparse
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from newswire.services.delivery.subscribe import Consumer, Delivery
from newswire.services.errors import ConfigError, RefusedURL
from newswire.services.metrics import Metrics
from newswire.services.redact import redact_url
from newswire.services.settings import Settings
from newswire.services.sinks.jetstream import NatsSink
from newswire.services.sinks.postgres import Archive, ArchiveError, Hit, PostgresSink
from newswire.services.sinks.runner import SinkRunner
from newswire.services.sinks.webhook import WebhookSink
from newswire.workers.cli_args import SearchArgs, SinkArgs, bind
from newswire.workers.cli_output import EXIT_CONFIG, EXIT_OK, connect
from newswire.workers.runtime import load_settings
from newswire.workers.stopping import stop_on

SINKS = ("postgres", "webhook", "nats")


def cmd_sink(args: SinkArgs) -> int:
    settings = load_settings()
    client = connect(settings)
    group = args.group or f"sink-{args.kind}"
    name = args.name or f"{socket.gethostname()}-{args.kind}"
    target, write, close = target_of(args, settings)
    consumer = Consumer(client, settings.stream, group, name, start="0",
                        batch=args.batch or settings.sink_batch)  # fmt: skip
    metrics = Metrics(client, settings.key_prefix, settings.metrics_flush_seconds)
    runner = SinkRunner(consumer, write, args.kind, metrics)
    stop = threading.Event()
    stop_on(stop, signal.SIGTERM)
    print(f"newswire sink {args.kind}: {settings.stream} as group {group!r} (member {name!r}) "
          f"into {redact_url(target)}; Ctrl-C to stop", flush=True)  # fmt: skip
    started = time.monotonic()
    try:
        runner.run(stop.is_set, until_idle=args.until_idle)
    except KeyboardInterrupt:
        pass
    finally:
        close()
    took = time.monotonic() - started
    print(f"newswire sink {args.kind}: {runner.written} events written in {took:.2f} s, "
          f"{runner.dead} refused (dead letters)", flush=True)  # fmt: skip
    return EXIT_OK


def target_of(
    args: SinkArgs, settings: Settings
) -> tuple[str, Callable[[list[Delivery]], object], Callable[[], None]]:
    """The sink's target, its `write` and its `close`; ConfigError says what is missing."""
    if args.kind == "postgres":
        dsn = args.target or settings.postgres_dsn
        if not dsn:
            raise ConfigError("give the Postgres DSN (`newswire sink postgres DSN`) or set "
                              "NEWSWIRE_POSTGRES_DSN")  # fmt: skip
        postgres = PostgresSink(dsn)
        return dsn, postgres.write, postgres.close
    if args.kind == "nats":
        url = args.target or "nats://127.0.0.1:4222"
        nats = NatsSink(url, args.stream, args.subject)
        return url, nats.write, nats.close
    if not args.target:
        raise ConfigError("give the URL: `newswire sink webhook https://... --secret env:NAME`")
    if not args.secret or not args.secret.startswith("env:"):
        raise ConfigError("--secret env:NAME: the signing secret is read from the environment "
                          "variable NAME (never given on the command line)")  # fmt: skip
    secret = os.environ.get(args.secret.removeprefix("env:"), "")
    if not secret:
        raise ConfigError(f"{args.secret.removeprefix('env:')} is empty or not set: it holds "
                          "the webhook's signing secret")  # fmt: skip
    try:
        webhook = WebhookSink(args.target, secret.encode(), allow=list(settings.allow_hosts),
                              allow_private=args.allow_private, concurrency=args.concurrency,
                              user_agent=settings.user_agent)  # fmt: skip
    except RefusedURL as exc:
        raise ConfigError(f"webhook URL refused: {exc.reason}; pass --allow-private for a "
                          "receiver on your own network") from None  # fmt: skip
    return args.target, webhook.write, webhook.close


def since_value(text: str | None) -> datetime | None:
    """`--since`: an ISO date or time, or a span back from now (`90m`, `12h`, `7d`)."""
    if not text:
        return None
    units = {"m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].isdigit():
        return datetime.now(UTC) - timedelta(seconds=int(text[:-1]) * units[text[-1]])
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--since {text!r}: give a date (2026-12-01), a time, or 12h / 7d"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cmd_search(args: SearchArgs) -> int:
    settings = load_settings()
    dsn = args.dsn or settings.postgres_dsn
    if not dsn:
        print("newswire search: give --dsn or set NEWSWIRE_POSTGRES_DSN (the archive that "
              "`newswire sink postgres` writes)")  # fmt: skip
        return EXIT_CONFIG
    try:
        archive = Archive.connect(dsn)
    except ArchiveError as exc:
        raise ConfigError(str(exc)) from None
    try:
        archive.migrate()
        hits = archive.search(args.query, since=since_value(args.since), language=args.lang,
                              source=args.source, limit=args.limit)  # fmt: skip
    finally:
        archive.close()
    if args.json:
        for hit in hits:
            print(json.dumps(as_json(hit), ensure_ascii=False))
        return EXIT_OK
    for n, hit in enumerate(hits, 1):
        when = hit.published_at.strftime("%Y-%m-%d %H:%M") if hit.published_at else "undated"
        print(f"{n}. {hit.title}  [{hit.source or '?'}, {when}, {hit.language or '?'}]")
        print(f"   {hit.url or hit.id}")
        print(f"   {' '.join(hit.snippet.split())}")
    print(f"{len(hits)} stories" + (" (--limit reached)" if len(hits) == args.limit else ""))
    return EXIT_OK


def as_json(hit: Hit) -> dict[str, object]:
    return {
        "id": hit.id, "version": hit.version, "title": hit.title, "url": hit.url,
        "source": hit.source, "language": hit.language,
        "published_at": hit.published_at.isoformat() if hit.published_at else None,
        "rank": round(hit.rank, 6), "snippet": hit.snippet,
    }  # fmt: skip


def add_parsers(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    sink = sub.add_parser(
        "sink",
        help="deliver the article stream into Postgres, a webhook or NATS, exactly once",
        description="Read the article stream as a member of its own consumer group and write "
        "each batch to the target, acking only once the target confirmed. A crash or restart "
        "resumes where it stopped and doubles nothing (writes are idempotent by id and "
        "version); an event the target refuses for good goes to the dead letters.",
    )
    sink.add_argument("kind", choices=SINKS,
                      help="postgres (archive), webhook (signed POSTs), nats")  # fmt: skip
    sink.add_argument("target", nargs="?", default=None, metavar="DSN_OR_URL",
                      help="Postgres DSN (NEWSWIRE_POSTGRES_DSN), webhook or NATS URL")  # fmt: skip
    sink.add_argument("--secret", default=None, metavar="env:NAME",
                      help="webhook: the variable that holds the signing secret")  # fmt: skip
    sink.add_argument("--allow-private", action="store_true",
                      help="webhook: a receiver on a private or loopback address")  # fmt: skip
    sink.add_argument("--stream", default="NEWSWIRE",
                      help="nats: the JetStream stream (made if missing)")  # fmt: skip
    sink.add_argument("--subject", default="newswire.articles.{language}",
                      help="nats: subject template; {language} {source} {event} {id}")  # fmt: skip
    sink.add_argument("--concurrency", type=int, default=8,
                      help="webhook: POSTs in flight at once (default 8)")  # fmt: skip
    sink.add_argument("--group", default=None, help="consumer group (default: sink-KIND)")
    sink.add_argument("--name", default=None, help="member name (default: host-KIND)")
    sink.add_argument("--batch", type=int, default=None, metavar="N",
                      help="events per write (default: NEWSWIRE_SINK_BATCH, 500)")  # fmt: skip
    sink.add_argument("--until-idle", action="store_true",
                      help="stop when nothing more is left (a one-off catch-up)")  # fmt: skip
    bind(sink, SinkArgs, cmd_sink)

    search = sub.add_parser(
        "search",
        help="search the Postgres archive: ranked stories with highlighted snippets",
        description="Full-text search of the archive `newswire sink postgres` writes, each "
        "story in its own language's stemming; title matches rank above body matches. QUERY "
        'is web-search syntax: words, "a phrase", -excluded, or.',
    )
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--dsn", default=None, help="default: NEWSWIRE_POSTGRES_DSN")
    search.add_argument("--since", default=None, help="2026-12-01, an ISO time, or 12h / 7d")
    search.add_argument("--lang", default=None, help="only stories in this language (de, en...)")
    search.add_argument("--source", default=None, help="only stories whose site or URL has this")
    search.add_argument("--limit", type=int, default=20)
    search.add_argument("--json", action="store_true", help="one JSON object per story")
    bind(search, SearchArgs, cmd_search)
