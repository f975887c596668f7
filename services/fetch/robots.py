"""robots.txt: whether newswire may fetch a page or sitemap, per the site's rules for its
User-Agent, fetched once per host and cached in Redis with a TTL (RFC 9309)."""

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import redis
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.errors import FetchError, RefusedURL, TransientFetch
from newswire.services.fetch.client import Fetcher, RequestOptions
from newswire.services.fetch.politeness import HostLimiter
from newswire.services.redact import redact_url
from protego import Protego

log = logging.getLogger(__name__)

# RFC 9309: a crawler must parse at least 500 KiB; what follows is ignored.
MAX_ROBOTS_BYTES = 500 * 1024
# An unreachable robots.txt (5xx, timeout) means "disallow everything", re-asked this soon.
UNREACHABLE_TTL = 600
# Parsed rules stay in the process this long (under the Redis TTL): one GET per host a minute
# instead of one per page.
LOCAL_TTL = 60.0
MAX_LOCAL = 10_000
ALLOW_ALL = "allow_all"
DISALLOW_ALL = "disallow_all"
RULES = "rules"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""  # why not, for extraction_error
    crawl_delay: float | None = None
    transient: bool = False  # robots.txt unreachable: worth asking again later


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, an IPv6 host in brackets: where its robots.txt is."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""  # refused by the guard before any fetch anyway
    return f"{parts.scheme.lower()}://{host}{port}"


def robots_agent(user_agent: str) -> str:
    """The product token robots.txt groups are matched against: `newswire` of
    `newswire/0.2 (+https://…)`."""
    return user_agent.split("/", 1)[0].split(maxsplit=1)[0] or "newswire"


class RobotsCache:
    """`verdict(url)` for page and sitemap fetches. Rules live in Redis for `ttl` seconds per
    origin (shared by every worker) and a minute in the process; `Crawl-delay` for our agent
    is handed to the shared host limiter."""

    def __init__(
        self,
        client: redis.Redis,
        fetcher: Fetcher,
        *,
        prefix: str,
        user_agent: str,
        ttl: int,
        limiter: HostLimiter | None = None,
    ) -> None:
        self._redis = client
        self._fetcher = fetcher
        self._prefix = prefix
        self._agent = robots_agent(user_agent)
        self._ttl = ttl
        self._limiter = limiter
        self._local: dict[str, tuple[float, str, Protego | None, str]] = {}
        self._fetching: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def verdict(self, url: str, request: RequestOptions | None = None) -> Verdict:
        """May `url` be fetched? `request` carries the feed's options: its proxy fetches the
        robots.txt too (as it does the page)."""
        origin = origin_of(url)
        kind, rules, why = self._rules(origin, request)
        if kind == ALLOW_ALL:
            return Verdict(True)
        if kind == DISALLOW_ALL:
            cause = f"; {why}" if why else ""
            return Verdict(
                False, f"disallowed by robots.txt (unreachable: all disallowed{cause})",
                transient=True,
            )  # fmt: skip
        assert rules is not None
        delay = rules.crawl_delay(self._agent)
        if not rules.can_fetch(url, self._agent):
            return Verdict(False, "disallowed by robots.txt", delay)
        return Verdict(True, crawl_delay=delay)

    def _rules(
        self, origin: str, request: RequestOptions | None
    ) -> tuple[str, Protego | None, str]:
        now = time.monotonic()
        with self._lock:
            cached = self._local.get(origin)
            fetching = self._fetching.setdefault(origin, threading.Lock())
        if cached is not None and cached[0] > now:
            return cached[1], cached[2], cached[3]
        # One thread per origin asks; the others wait for its answer (prefetch threads start
        # on one site's links at once).
        with fetching:
            with self._lock:
                cached = self._local.get(origin)
            if cached is not None and cached[0] > now:
                return cached[1], cached[2], cached[3]
            return self._load(origin, now, request)

    def _load(
        self, origin: str, now: float, request: RequestOptions | None
    ) -> tuple[str, Protego | None, str]:
        key = keys.robots(self._prefix, origin)
        with redis_errors("GET"):
            stored: Any = self._redis.get(key)
        if stored is None:
            kind, body, ttl = self._fetch(origin, request)
            with redis_errors("SET"):
                self._redis.set(key, json.dumps({"kind": kind, "body": body}), ex=ttl)
        else:
            record = json.loads(stored)
            kind, body = record["kind"], record["body"]
        rules = Protego.parse(body) if kind == RULES else None
        if rules is not None and self._limiter is not None:
            delay = rules.crawl_delay(self._agent)
            if delay:
                self._limiter.set_crawl_delay(origin, float(delay), self._ttl)
        why = "" if kind == RULES else body  # the body of a verdict without rules says why
        with self._lock:
            if len(self._local) >= MAX_LOCAL:  # bounded: expired origins go first
                self._local = {o: c for o, c in self._local.items() if c[0] > now}
                self._fetching = {o: f for o, f in self._fetching.items() if f.locked()}
            self._local[origin] = (now + LOCAL_TTL, kind, rules, why)
        return kind, rules, why

    def _fetch(self, origin: str, request: RequestOptions | None) -> tuple[str, str, int]:
        """(kind, body, TTL) per RFC 9309: 2xx rules (the first 500 KiB of them); 4xx
        "unavailable": allow all; 5xx or no answer "unreachable": disallow all, asked again
        soon. Every outcome is cached, a refused one too (the guard refusing a redirect, or
        the host itself, whose pages are then refused and recorded on their own)."""
        url = f"{origin}/robots.txt"
        try:
            result = self._fetcher.get(
                url, accept="text/plain, */*;q=0.5", options=request, prefix=MAX_ROBOTS_BYTES
            )
        except TransientFetch as exc:
            log.info(
                "robots.txt of %s unreachable (%s): disallowing", redact_url(origin), exc.reason
            )
            return DISALLOW_ALL, exc.reason[:300], UNREACHABLE_TTL
        except RefusedURL as exc:
            log.info("robots.txt of %s refused (%s): allowing", redact_url(origin), exc.reason)
            return ALLOW_ALL, "", self._ttl
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return ALLOW_ALL, "", self._ttl
            # Too large, not text...: read as "no usable rules", as an invalid file would be.
            log.info("robots.txt of %s unusable (%s): allowing", redact_url(origin), exc.reason)
            return ALLOW_ALL, "", self._ttl
        text = result.content[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        return RULES, text, self._ttl
