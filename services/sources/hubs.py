"""WebSub discovery: a feed's hub and topic, from its HTTP Link headers and its own links."""

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from newswire.schemas.feed import ParsedFeed

# One link-value of an RFC 8288 Link header: <target> then ;-separated parameters.
LINK_VALUE = re.compile(r'<([^>]*)>((?:\s*;\s*[^,;=\s]+(?:\s*=\s*(?:"[^"]*"|[^,;]*))?)*)')
PARAM = re.compile(r';\s*([^,;=\s]+)(?:\s*=\s*(?:"([^"]*)"|([^,;]*)))?')
MAX_HEADER_CHARS = 8192  # a Link header longer than this is not read past it


@dataclass(frozen=True)
class HubLink:
    """Where to subscribe (`hub`) and to what (`topic`, the feed's own URL as it states it)."""

    hub: str
    topic: str


def link_header(value: str, base: str) -> list[tuple[str, frozenset[str]]]:
    """The targets of a Link header (resolved against `base`) with their rel values."""
    links = []
    for match in LINK_VALUE.finditer(value[:MAX_HEADER_CHARS]):
        rels: frozenset[str] = frozenset()
        for param in PARAM.finditer(match.group(2)):
            if param.group(1).lower() == "rel":
                rels = frozenset((param.group(2) or param.group(3) or "").lower().split())
        try:
            links.append((urljoin(base, match.group(1).strip()), rels))
        except ValueError:
            continue  # a target the URL parser refuses is no link
    return links


def _web(url: str | None) -> str | None:
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def discover(headers: dict[str, str], feed: ParsedFeed, fetched_url: str) -> HubLink | None:
    """The feed's hub and topic, or None when it names no hub. The HTTP Link header wins over
    the feed's own links (the WebSub Recommendation, 4); without a rel=self the topic is the
    address the feed was fetched from."""
    header = headers.get("link") or headers.get("Link") or ""
    linked = link_header(header, fetched_url) if header else []
    hubs = [url for url, rels in linked if "hub" in rels]
    own = next((url for url, rels in linked if "self" in rels), None)
    if not hubs:
        hubs, own = feed.hubs, own or feed.self_url
    hub = next((h for h in map(_web, hubs) if h), None)
    if hub is None:
        return None
    return HubLink(hub, _web(own) or fetched_url)
