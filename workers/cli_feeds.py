"""`newswire feeds ...`: the feed registry from the command line."""

import argparse
import dataclasses
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import redis
from newswire.schemas.feed import FeedOptions
from newswire.services.errors import ConfigError, FetchError, RefusedURL
from newswire.services.fetch.client import Fetcher
from newswire.services.identity.urls import site_of
from newswire.services.ingest.titlehabits import describe as title_habits
from newswire.services.polling.registry import Registry
from newswire.services.push.subscriptions import Subscriptions
from newswire.services.redact import redact_url
from newswire.services.settings import Settings
from newswire.services.sources.discover import discover
from newswire.services.sources.feedlist import (
    DEFAULT_SECRET_PREFIXES,
    feed_options,
    parse_feed_list,
    to_opml,
)
from newswire.workers.cli_args import (
    FeedsAddArgs,
    FeedsDiscoverArgs,
    FeedsExportArgs,
    FeedsImportArgs,
    FeedsListArgs,
    FeedsRemoveArgs,
    bind,
)
from newswire.workers.cli_output import (
    EXIT_CONFIG,
    EXIT_FETCH,
    EXIT_NOT_FOUND,
    EXIT_OK,
    connect,
    positive_int,
    print_table,
    progress_bar,
)
from newswire.workers.runtime import load_settings
from newswire.workers.timefmt import ago, every


def _registry(settings: Settings) -> tuple[redis.Redis, Registry]:
    client = connect(settings)
    return client, Registry(client, settings.key_prefix, settings.poll_interval)


def options_from_flags(
    args: FeedsAddArgs, allowed: tuple[str, ...] = DEFAULT_SECRET_PREFIXES
) -> FeedOptions | None:
    """FeedOptions from `feeds add` flags; None when no option flag was given."""
    raw: dict[str, object] = {}
    if args.header:
        raw["headers"] = dict(_pair(h, ":", "--header 'Name: value'") for h in args.header)
    if args.cookie:
        raw["cookies"] = dict(_pair(c, "=", "--cookie name=value") for c in args.cookie)
    if args.auth:
        user, password = _pair(args.auth, ":", "--auth user:password")
        raw["username"], raw["password"] = user, password
    for flag in ("user_agent", "proxy", "language", "robots_txt"):
        if getattr(args, flag) is not None:
            raw[flag] = getattr(args, flag)
    if args.feed_text:
        raw["fetch_pages"] = False
    if args.tag:
        raw["tags"] = args.tag
    if args.credential_origin:
        raw["credential_origins"] = args.credential_origin
    return feed_options(raw, os.environ, allowed) if raw else None


def _pair(text: str, sep: str, form: str) -> tuple[str, str]:
    name, found, value = text.partition(sep)
    if not found or not name.strip():
        raise ConfigError(f"cannot read {text!r}: write {form}")
    return name.strip(), value.strip()


def cmd_feeds_add(args: FeedsAddArgs) -> int:
    settings = load_settings()
    _client, registry = _registry(settings)
    options = options_from_flags(args, settings.secret_prefixes)
    for url in args.urls:
        try:
            state = registry.add(url, args.interval, options=options, learn=args.learn)
        except RefusedURL as exc:
            print(f"newswire: not adding {redact_url(url)}: {exc.reason}", file=sys.stderr)
            return EXIT_CONFIG
        pace = (
            "its interval learned from its stories"
            if state.adaptive
            else f"every {state.interval}s"
        )
        print(f"added {redact_url(state.url)} ({pace})")
    return EXIT_OK


def cmd_feeds_remove(args: FeedsRemoveArgs) -> int:
    settings = load_settings()
    client, registry = _registry(settings)
    subscriptions = Subscriptions(client, settings.key_prefix)
    missing = []
    for url in args.urls:
        if not registry.remove(url):
            missing.append(url)
        elif subscriptions.get(fid := registry.resolve(url)) is not None:
            # The scheduler's next sweep asks the hub to stop pushing it.
            subscriptions.act_soon(fid, time.time())
    for url in missing:
        print(f"newswire: {redact_url(url)} was not registered", file=sys.stderr)
    return EXIT_OK if not missing else 1


def cmd_feeds_list(args: FeedsListArgs) -> int:
    settings = load_settings()
    client, registry = _registry(settings)
    feeds = registry.all()
    if args.json:
        # The site a feed's stories come from: the one it says it is of, else its own host.
        sites = [site_of(f.site_url or f.url) for f in feeds]
        habits = title_habits(client, settings.key_prefix, sorted(set(sites)))
        shown = [
            f.model_dump(mode="json")
            | {"url": redact_url(f.url), "options": f.options.redacted().model_dump(mode="json"),
               "site": site, "title_habit": habits[site]}
            for f, site in zip(feeds, sites, strict=True)
        ]  # fmt: skip
        print(json.dumps(shown, indent=2))
        return EXIT_OK
    if not feeds:
        print("no feeds registered: add some with `newswire feeds add URL`")
        return EXIT_OK
    now = time.time()
    rows = [("URL", "KIND", "EVERY", "STATUS", "ERRORS", "NEXT POLL", "OPTIONS", "LAST ERROR")]
    for f in feeds:
        due = "disabled" if not f.enabled else ago(f.next_due, now)
        kind = (f.format or "-") + (" +hub" if f.hub else "")
        rows.append((redact_url(f.url), kind, every(f), f.last_status or "new",
                     str(f.error_count), due, option_summary(f.options),
                     f.disabled_reason or f.last_error or ""))  # fmt: skip
    print_table(rows)
    return EXIT_OK


def option_summary(options: FeedOptions) -> str:
    """The options set, by name only: values (some secret) are never printed."""
    names = [
        name
        for name, value in options.model_dump().items()
        if value != FeedOptions.model_fields[name].get_default(call_default_factory=True)
    ]
    return ",".join(names) or "-"


def cmd_feeds_import(args: FeedsImportArgs) -> int:
    _client, registry = _registry(load_settings())
    try:
        specs = parse_feed_list(
            Path(args.file).read_bytes(), args.file, load_settings().secret_prefixes
        )
    except OSError as exc:
        raise ConfigError(f"cannot read {args.file}: {exc.strerror}") from None
    added, refused = 0, 0
    progress = progress_bar("importing feeds")
    for done, spec in enumerate(specs, 1):
        if progress:
            progress(done, len(specs))
        try:
            registry.add(spec.url, spec.interval or args.interval, options=spec.options)
            added += 1
        except RefusedURL as exc:
            refused += 1
            print(f"skipped {redact_url(spec.url)}: {exc.reason}", file=sys.stderr)
    print(f"imported {added} feeds from {args.file}" + (f", skipped {refused}" if refused else ""))
    return EXIT_OK


def cmd_feeds_export(args: FeedsExportArgs) -> int:
    _client, registry = _registry(load_settings())
    sys.stdout.write(to_opml(registry.all()))
    return EXIT_OK


def cmd_feeds_discover(args: FeedsDiscoverArgs) -> int:
    """Find a site's feeds and sitemaps; list them, and register them with --add."""
    settings = load_settings()
    with Fetcher(settings) as fetcher:
        try:
            found = discover(args.url, fetcher, now=datetime.now(UTC))
        except FetchError as exc:
            print(f"newswire: cannot read {redact_url(args.url)}: {exc.reason}", file=sys.stderr)
            return EXIT_FETCH
    added: list[str] = []
    if args.add and found:
        _client, registry = _registry(settings)
        for item in found:
            added.append(registry.add(item.url, args.interval).url)
    if args.json:
        print(
            json.dumps([dataclasses.asdict(f) | {"added": f.url in added} for f in found], indent=2)
        )
        return EXIT_OK if found else EXIT_NOT_FOUND
    if not found:
        print(f"no feed or sitemap found at {redact_url(args.url)}", file=sys.stderr)
        return EXIT_NOT_FOUND
    rows = [("URL", "KIND", "ITEMS", "FOUND BY", "TITLE")]
    rows += [(redact_url(f.url), f.kind, str(f.items), f.via, f.title[:60]) for f in found]
    print_table(rows)
    if added:
        print(f"added {len(added)} source(s): they are polled from now on")
    elif len(found):
        print("register them with --add, or one by one with `newswire feeds add URL`")
    return EXIT_OK


def add_parsers(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    feeds = sub.add_parser("feeds", help="manage the registered feeds")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)
    add = feeds_sub.add_parser(
        "add",
        help="register feeds (polled from now on)",
        description="Register feeds, sitemaps or JSON Feeds (the kind is told from the content "
        "at each poll). Options apply to every URL given; re-adding a URL with options "
        "replaces its options. A secret value written env:NAME is read from the environment "
        "variable NAME, so it stays out of `ps` and the shell history.",
    )
    add.add_argument("urls", nargs="+", metavar="URL")
    pace = add.add_mutually_exclusive_group()
    pace.add_argument(
        "--interval", type=positive_int,
        help="seconds between polls, fixed (default: learned from the feed's own stories)",
    )  # fmt: skip
    pace.add_argument(
        "--learn", action="store_true",
        help="learn the interval from the feed's stories, also for a feed registered with a "
        "fixed one",
    )  # fmt: skip
    add.add_argument(
        "--header",
        action="append",
        metavar="'NAME: VALUE'",
        help="extra request header, e.g. 'Authorization: env:FEED_TOKEN' (repeat)",
    )
    add.add_argument("--auth", metavar="USER:PASSWORD", help="HTTP basic auth (env:NAME works)")
    add.add_argument("--cookie", action="append", metavar="NAME=VALUE", help="cookie (repeat)")
    add.add_argument(
        "--credential-origin",
        action="append",
        metavar="ORIGIN",
        help="another origin (https://host[:port]) that gets the credentials too (repeat); "
        "the feed's own origin always does",
    )
    add.add_argument("--user-agent", help="User-Agent for this feed's requests")
    add.add_argument("--proxy", metavar="URL", help="http://, https:// or socks5:// proxy")
    add.add_argument(
        "--feed-text",
        action="store_true",
        help="trust the feed's own full text: fetch no article page",
    )
    add.add_argument("--language", metavar="CODE", help="language when page and feed say none")
    add.add_argument("--tag", action="append", metavar="TAG", help="tag every story (repeat)")
    add.add_argument(
        "--robots",
        dest="robots_txt",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="obey robots.txt for this feed (default: the setting)",
    )
    bind(add, FeedsAddArgs, cmd_feeds_add)
    remove = feeds_sub.add_parser("remove", help="unregister feeds")
    remove.add_argument("urls", nargs="+", metavar="URL")
    bind(remove, FeedsRemoveArgs, cmd_feeds_remove)
    listing = feeds_sub.add_parser("list", help="registered feeds and their health")
    listing.add_argument("--json", action="store_true", help="the full state of each feed")
    bind(listing, FeedsListArgs, cmd_feeds_list)
    imp = feeds_sub.add_parser("import", help="register the feeds of an OPML or YAML file")
    imp.add_argument("file", metavar="FILE", help="OPML 2.0 export, or YAML list of URLs")
    imp.add_argument(
        "--interval", type=positive_int, help="seconds between polls where the file has none"
    )
    bind(imp, FeedsImportArgs, cmd_feeds_import)
    exp = feeds_sub.add_parser("export", help="print the registered feeds as OPML")
    bind(exp, FeedsExportArgs, cmd_feeds_export)
    find = feeds_sub.add_parser(
        "discover",
        help="find a site's feeds and sitemaps",
        description="Fetch URL and list the feeds (RSS, Atom, JSON Feed) and sitemaps of its "
        "site: the page's alternate links, the sitemaps its robots.txt lists and common feed "
        "paths, each fetched to check its kind and count its items. Exit 4 when none is found.",
    )
    find.add_argument("url", metavar="URL", help="a page of the site (or a feed itself)")
    find.add_argument("--add", action="store_true", help="register every source found")
    find.add_argument("--interval", type=positive_int, help="with --add: seconds between polls")
    find.add_argument("--json", action="store_true", help="the sources as a JSON list")
    bind(find, FeedsDiscoverArgs, cmd_feeds_discover)
