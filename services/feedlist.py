"""Feed lists: read OPML 2.0 (as feed readers export it) and simple YAML lists; write OPML."""

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import yaml
from lxml import etree

from schemas.feed import FeedState
from services.errors import ConfigError
from services.redact import redact_url


@dataclass(frozen=True)
class FeedSpec:
    url: str
    interval: int | None = None
    title: str | None = None


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
            specs.append(FeedSpec(url.strip(), None, outline.get("title") or outline.get("text")))
    return specs


def parse_yaml(content: bytes) -> list[FeedSpec]:
    """A list of URLs, or of {url, interval}; or a mapping with a `feeds:` list."""
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
            specs.append(FeedSpec(item["url"].strip(), interval, item.get("title")))
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
