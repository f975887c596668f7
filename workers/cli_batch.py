"""Long batch commands: `newswire replay` (archived pages) and `newswire backfill` (WARC files),
with a progress bar on a terminal and a summary."""

import argparse
import json
import re
from datetime import UTC, datetime, timedelta

from services.archive import LocalArchive
from services.errors import ConfigError
from services.replay import replay
from workers.cli_output import EXIT_OK, progress_bar
from workers.runtime import build_runtime, load_settings

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


def cmd_replay(args: argparse.Namespace) -> int:
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
    rep.set_defaults(handler=cmd_replay)
