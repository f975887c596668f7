"""Feed lists: read OPML 2.0 (as feed readers export it) and simple YAML lists; write OPML."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import yaml
from lxml import etree
from pydantic import ValidationError

from newswire.schemas.feed import FeedOptions, FeedState
from newswire.services.errors import ConfigError
from newswire.services.redact import redact_url


@dataclass(frozen=True)
class FeedSpec:
    url: str
    interval: int | None = None
    title: str | None = None
    options: FeedOptions | None = None


# Keys of a YAML feed item besides url/interval/title: FeedOptions' fields.
OPTION_KEYS = frozenset(FeedOptions.model_fields)


def resolve_secret(value: str, environ: Mapping[str, str]) -> str:
    """`env:NAME` reads the value from the environment (so a secret stays out of the feed
    list, the shell history and `ps`); any other value is itself."""
    if value.startswith("env:"):
        name = value[4:]
        if name not in environ:
            raise ConfigError(f"{value}: the environment variable {name} is not set")
        return environ[name]
    return value


def feed_options(raw: Mapping[str, object], environ: Mapping[str, str]) -> FeedOptions:
    """FeedOptions from a mapping of option names (YAML item, CLI flags), `env:` resolved."""
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
            data[key] = {str(k): resolve_secret(str(v), environ) for k, v in value.items()}
    for key in ("password", "proxy"):
        if isinstance(data.get(key), str):
            data[key] = resolve_secret(str(data[key]), environ)
    try:
        return FeedOptions.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid feed options: {problems}") from None


def parse_opml(content: bytes) -> list[FeedSpec]:
    """Every outline with an xmlUrl, at any depth (readers nest feeds in folders)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"not an OPML file: {exc}") from exc
    if root is None:
        raise ConfigError("not an OPML file: empty document")
    specs = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url:
            # OPML's own `category` (comma list) and `language` attributes, when present.
            tags = [t.strip().strip("/") for t in (outline.get("category") or "").split(",")]
            options = FeedOptions(
                tags=[t for t in tags if t], language=outline.get("language") or None
            )
            specs.append(FeedSpec(url.strip(), None, outline.get("title") or outline.get("text"),
                                  options if options != FeedOptions() else None))  # fmt: skip
    return specs


def parse_yaml(content: bytes, environ: Mapping[str, str] | None = None) -> list[FeedSpec]:
    """A list of URLs, or of {url, interval, title, <option>: ...}; or a mapping with a
    `feeds:` list. Option values written `env:NAME` come from the environment."""
    environ = os.environ if environ is None else environ
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not a YAML feed list: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("feeds")
    if not isinstance(data, list):
        raise ConfigError("a YAML feed list is a list of URLs or of {url: ..., interval: ...}")
    specs = []
    for item in data:
        if isinstance(item, str):
            specs.append(FeedSpec(item.strip()))
        elif isinstance(item, dict) and isinstance(item.get("url"), str):
            interval = item.get("interval")
            if interval is not None and not (isinstance(interval, int) and interval > 0):
                raise ConfigError(
                    f"interval for {item['url']} must be a positive number of seconds"
                )
            raw = {k: v for k, v in item.items() if k not in {"url", "interval", "title"}}
            options = feed_options(raw, environ) if raw else None
            specs.append(FeedSpec(item["url"].strip(), interval, item.get("title"), options))
        else:
            raise ConfigError(
                f"cannot read feed list item {item!r}: expected a URL or {{url: ...}}"
            )
    return specs


def parse_feed_list(content: bytes, filename: str) -> list[FeedSpec]:
    """OPML or YAML, by extension, else by sniffing for an <opml> root."""
    name = filename.lower()
    if name.endswith((".opml", ".xml")) or content.lstrip()[:200].lower().find(b"<opml") >= 0:
        return parse_opml(content)
    return parse_yaml(content)


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
