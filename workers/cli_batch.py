"""Long batch commands: `newswire replay` (archived pages) and `newswire backfill` (WARC files),
with a progress bar on a terminal and a summary."""

import argparse
import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newswire.services.errors import ConfigError
from newswire.services.ingest.archive import LocalArchive
from newswire.services.ingest.backfill import BackfillSummary, Progress, backfill_file
from newswire.services.ingest.replay import replay
from newswire.workers.cli_args import BackfillArgs, ReplayArgs, bind
from newswire.workers.cli_output import EXIT_OK, EXIT_PARTIAL, progress_bar
from newswire.workers.runtime import build_runtime, load_settings

RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime) -> datetime:
    """`2d`, `12h`, `30m` before now, or an ISO 8601 date/time (UTC when no zone is given)."""
    relative = RELATIVE.match(text.strip())
    if relative:
        return now - timedelta(**{UNITS[relative[2]]: float(relative[1])})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--since {text!r}: write e.g. 2d, 12h or 2026-11-27T10:00") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_replay(args: ReplayArgs) -> int:
    """Re-extract archived pages; publish article.updated where a body changed."""
    settings = load_settings()
    since = parse_since(args.since, datetime.now(UTC)) if args.since else None
    archive = LocalArchive(settings.archive_path, settings.archive_ttl_days)
    runtime = build_runtime(settings)
    try:
        summary = replay(
            archive, runtime.pipeline, feed=args.feed, since=since, story_id=args.id,
            progress=progress_bar("replay", args.json),
        )  # fmt: skip
    finally:
        runtime.close()
    if args.json:
        print(json.dumps({"pages": summary.pages, "counts": dict(summary.counts)}))
    else:
        print(summary.line())
    return EXIT_OK


def in_kib(bar: Callable[[int, int], None] | None) -> Callable[[int, int], None] | None:
    """A byte-count progress callback shown in KiB."""
    if bar is None:
        return None
    shown = bar
    return lambda done, total: shown(done // 1024, total // 1024)


def cmd_backfill(args: BackfillArgs) -> int:
    """Publish the HTML responses of WARC files through the pipeline, resumably."""
    settings = load_settings()
    runtime = build_runtime(settings)
    store = Progress(runtime.redis, settings.key_prefix)
    summaries: list[BackfillSummary] = []
    try:
        for name in args.files:
            path = Path(name)
            if not path.is_file():
                raise ConfigError(f"{name}: no such file")
            summary = backfill_file(
                path, runtime.pipeline, store, max_bytes=settings.fetch_max_bytes,
                progress=in_kib(progress_bar(f"{path.name} (KiB)", args.json)),
            )  # fmt: skip
            summaries.append(summary)
            if not args.json:
                print(summary.line(), flush=True)
    finally:
        runtime.close()
    if args.json:
        print(json.dumps([
            {"file": s.path, "records": s.records, "resumed_at": s.resumed_at,
             "counts": dict(s.counts), "error": s.error}
            for s in summaries
        ]))  # fmt: skip
    elif len(summaries) > 1:
        total = sum((s.counts for s in summaries), Counter[str]())
        print("total: " + ", ".join(f"{n} {k}" for k, n in sorted(total.items())))
    return EXIT_OK if not any(s.error for s in summaries) else EXIT_PARTIAL


def add_parsers(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    rep = sub.add_parser(
        "replay",
        help="re-extract archived pages and publish the stories that changed",
        description="Run extraction again over the raw pages kept in the archive "
        "(NEWSWIRE_ARCHIVE_DIR, default <data dir>/archive), without fetching anything: the "
        "newest page of each story, and for each story whose body comes out different, an "
        "article.updated event (same rules as a re-fetch). Stories never published are left "
        "alone.",
    )
    rep.add_argument("--feed", metavar="URL", help="only stories of this feed")
    rep.add_argument("--since", metavar="WHEN", help="only pages fetched since: 2d, 12h, or ISO")
    rep.add_argument("--id", metavar="STORY_ID", help="only this story")
    rep.add_argument("--json", action="store_true", help="the summary as JSON")
    bind(rep, ReplayArgs, cmd_replay)

    back = sub.add_parser(
        "backfill",
        help="publish the news pages of WARC files (e.g. CC-NEWS)",
        description="Read WARC files (gzip or plain) and run every HTTP 200 HTML response "
        "through the pipeline as if it had been fetched: identity, dedup, extraction, publish. "
        "Resumable: each file's progress is kept in Redis, and running the command again "
        "starts after what was done. Exit 1 when a file could not be read to its end.",
    )
    back.add_argument("files", nargs="+", metavar="FILE.warc.gz")
    back.add_argument("--json", action="store_true", help="a JSON summary per file")
    bind(back, BackfillArgs, cmd_backfill)
