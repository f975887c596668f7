"""The `newswire` command line: one subcommand per thing a user does."""

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

from services.errors import BrokerError, ConfigError
from services.ingest import FeedReport, Outcome
from services.subscribe import ack, ensure_group, read, read_group
from workers.runtime import build_runtime, load_settings

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_BROKER = 3

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
    from services.broker import open_redis  # noqa: PLC0415

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
