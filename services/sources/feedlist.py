"""Feed lists: read OPML 2.0 (as feed readers export it) and simple YAML lists; write OPML."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

import yaml
from lxml import etree
from newswire.schemas.feed import LANGUAGE_TAG, FeedOptions, FeedState
from newswire.services.errors import ConfigError
from newswire.services.redact import redact_url
from newswire.services.settinggroups import MAX_INTERVAL
from pydantic import ValidationError

# A feed list is data from anywhere: bounded in size, depth and every value's length.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FEEDS = 100_000
MAX_DEPTH = 16
MAX_URL_CHARS = 8192
MAX_TITLE_CHARS = 1000
# `env:NAME` never reads newswire's own settings (its Redis URL and password among them).
OWN_PREFIX = "NEWSWIRE_"
DEFAULT_SECRET_PREFIXES = ("FEED_",)


@dataclass(frozen=True)
class FeedSpec:
    url: str
    interval: int | None = None
    title: str | None = None
    options: FeedOptions | None = None


# Keys of a YAML feed item besides url/interval/title: FeedOptions' fields.
OPTION_KEYS = frozenset(FeedOptions.model_fields)


def resolve_secret(
    value: str, environ: Mapping[str, str], allowed: tuple[str, ...] = DEFAULT_SECRET_PREFIXES
) -> str:
    """`env:NAME` reads the value from the environment (so a secret stays out of the feed
    list, the shell history and `ps`); any other value is itself. Only names starting with
    one of the `allowed` prefixes (NEWSWIRE_ENV_SECRET_PREFIXES) are read, never NEWSWIRE_*."""
    if not value.startswith("env:"):
        return value
    name = value[4:]
    if name.upper().startswith(OWN_PREFIX) or not name.startswith(allowed):
        names = " or ".join(f"{p}*" for p in allowed) or "(none)"
        raise ConfigError(
            f"{value[:100]}: env: reads only variables named {names} (never {OWN_PREFIX}*); "
            "set NEWSWIRE_ENV_SECRET_PREFIXES to allow others"
        )
    if name not in environ:
        raise ConfigError(f"{value}: the environment variable {name} is not set")
    return environ[name]


def feed_options(
    raw: Mapping[str, object],
    environ: Mapping[str, str],
    allowed: tuple[str, ...] = DEFAULT_SECRET_PREFIXES,
) -> FeedOptions:
    """FeedOptions from a mapping of option names (YAML item, CLI flags), `env:` resolved;
    every value checked (FeedOptions' validators), the error naming the option, not its value."""
    unknown = set(raw) - OPTION_KEYS
    if unknown:
        raise ConfigError(
            f"unknown feed option(s) {', '.join(sorted(unknown))}; known: "
            + ", ".join(sorted(OPTION_KEYS))
        )
    data: dict[str, object] = dict(raw)
    for key in ("headers", "cookies"):
        value = data.get(key)
        if isinstance(value, dict):
            if not all(isinstance(v, str | int | float) for v in value.values()):
                raise ConfigError(f"invalid feed options: {key}: every value must be a string")
            data[key] = {str(k): resolve_secret(str(v), environ, allowed) for k, v in value.items()}
    for key in ("password", "proxy"):
        if isinstance(data.get(key), str):
            data[key] = resolve_secret(str(data[key]), environ, allowed)
    try:
        return FeedOptions.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid feed options: {option_problems(exc)}") from None


def option_problems(exc: ValidationError) -> str:
    """What is wrong with feed options, by option name and rule: never a value (FeedOptions
    hides the input, and a value may be a secret)."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def parse_opml(content: bytes) -> list[FeedSpec]:
    """Every outline with an xmlUrl, at any depth (readers nest feeds in folders).

    The file must be well-formed: the parser's error log is read, so a truncated file, an
    entity bomb, nesting beyond libxml2's limit or a 10 MB attribute is an error naming the
    line, never a partial import that exits 0. Entities are never expanded."""
    _check_size(content)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"not an OPML file: {exc}") from exc
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    if errors:
        first = errors[0]
        raise ConfigError(
            f"not a well-formed OPML file: line {first.line}: {first.message[:200]}"
            + (f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else "")
            + "; nothing was imported"
        )
    if root is None:
        raise ConfigError("not an OPML file: empty document")
    if root.getroottree().docinfo.internalDTD is not None:
        raise ConfigError("an OPML file with a DTD (entity declarations) is not read")
    specs = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url:
            specs.append(_outline(outline, url))
    return specs


def _outline(outline: Any, url: str) -> FeedSpec:
    """One outline's feed: OPML's own `category` (comma list) and `language` attributes, when
    present and valid, become tags and the language hint."""
    if len(url) > MAX_URL_CHARS:
        raise ConfigError(f"an outline's xmlUrl is longer than {MAX_URL_CHARS} characters")
    tags = [t.strip().strip("/")[:200] for t in (outline.get("category") or "").split(",")]
    language = (outline.get("language") or "").strip()
    options = FeedOptions(
        tags=[t for t in tags if t][:50],
        language=language if LANGUAGE_TAG.fullmatch(language) else None,
    )
    title = (outline.get("title") or outline.get("text") or "")[:MAX_TITLE_CHARS] or None
    return FeedSpec(url.strip(), None, title, options if options != FeedOptions() else None)


def _check_size(content: bytes) -> None:
    if len(content) > MAX_FILE_BYTES:
        raise ConfigError(
            f"feed list of {len(content)} bytes: more than {MAX_FILE_BYTES // 2**20} MiB"
        )


class FeedListLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases (a 462-byte alias bomb expands to gigabytes) and
    with a depth limit (deep nesting is a RecursionError in the composer)."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise ConfigError("a feed list may not use YAML aliases (*name): write values out")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise ConfigError(f"a feed list nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_yaml(content: bytes) -> object:
    """The YAML document, or ConfigError saying why not."""
    _check_size(content)
    loader = FeedListLoader(content)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigError(f"not a YAML feed list: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"a feed list nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()


def parse_yaml(
    content: bytes,
    environ: Mapping[str, str] | None = None,
    allowed: tuple[str, ...] = DEFAULT_SECRET_PREFIXES,
) -> list[FeedSpec]:
    """A list of URLs, or of {url, interval, title, <option>: ...}; or a mapping with a
    `feeds:` list. Option values written `env:NAME` come from the environment (only names
    with an `allowed` prefix). Every value is type-checked and length-capped."""
    environ = os.environ if environ is None else environ
    data = load_yaml(content)
    if isinstance(data, dict):
        data = data.get("feeds")
    if not isinstance(data, list):
        raise ConfigError("a YAML feed list is a list of URLs or of {url: ..., interval: ...}")
    if len(data) > MAX_FEEDS:
        raise ConfigError(f"a feed list of {len(data)} feeds: at most {MAX_FEEDS}")
    specs = []
    for position, item in enumerate(data, 1):
        where = f"feed list item {position}"
        if isinstance(item, str):
            specs.append(FeedSpec(_url(item, where)))
        elif isinstance(item, dict) and isinstance(item.get("url"), str):
            url = _url(item["url"], where)
            interval = item.get("interval")
            valid = isinstance(interval, int) and not isinstance(interval, bool)
            if interval is not None and not (valid and 1 <= interval <= MAX_INTERVAL):
                raise ConfigError(
                    f"interval for {redact_url(url)} must be 1 to {MAX_INTERVAL} seconds"
                )
            title = item.get("title")
            if title is not None and not (isinstance(title, str) and len(title) <= 1000):
                raise ConfigError(f"{where}: title must be text of at most 1000 characters")
            raw = {k: v for k, v in item.items() if k not in {"url", "interval", "title"}}
            options = feed_options(raw, environ, allowed) if raw else None
            specs.append(FeedSpec(url, interval, title, options))
        else:
            raise ConfigError(f"cannot read {where}: expected a URL or {{url: ...}}")
    return specs


def _url(value: str, where: str) -> str:
    if len(value) > MAX_URL_CHARS:
        raise ConfigError(f"{where}: a URL longer than {MAX_URL_CHARS} characters")
    return value.strip()


def parse_feed_list(
    content: bytes, filename: str, allowed: tuple[str, ...] = DEFAULT_SECRET_PREFIXES
) -> list[FeedSpec]:
    """OPML or YAML, by extension, else by sniffing for an <opml> root."""
    name = filename.lower()
    if name.endswith((".opml", ".xml")) or content.lstrip()[:200].lower().find(b"<opml") >= 0:
        return parse_opml(content)
    return parse_yaml(content, allowed=allowed)


def to_opml(feeds: list[FeedState]) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head><title>newswire feeds</title></head>",
        "  <body>",
    ]
    for feed in feeds:
        lines.append(
            f'    <outline type="rss" text={quoteattr(redact_url(feed.url))} '
            f"xmlUrl={quoteattr(redact_url(feed.url))}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)
