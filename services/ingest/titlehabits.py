"""Title habits: each site's learned headline source, kept in Redis with a TTL, read through a
small cache and written in batches, so learning adds no round trip to a story."""

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import redis
from newswire.schemas.feed import FeedEntry
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.errors import BrokerError, CommandRefused
from newswire.services.extract.page import Extracted
from newswire.services.extract.titlehabit import SEEN, TitleHabit, agreeing
from newswire.services.fetch.client import FetchResult
from newswire.services.identity.urls import site_of
from newswire.services.roundtrip import RoundTrip
from newswire.services.scripts import register

log = logging.getLogger(__name__)

TTL = 30 * 86400  # a site not seen for a month is forgotten (and learned again if it returns)
HALVE_AFTER = 64  # counts halve past this many pages: a redesign is learned within ~50 pages
CACHE_SECONDS = 300.0  # a process reads a site's habit at most this often
FLUSH_SECONDS = 30.0  # evidence is written at most this often (or when FLUSH_PAGES gather)
FLUSH_PAGES = 200
MAX_SITES = 5000  # the cache and the unwritten evidence stay bounded
# A site known from this many pages is compared on one titled page in SAMPLE (the comparison
# costs ~0.2 ms a page): enough to follow a redesign, at a quarter of the cost.
KNOWN_PAGES = 32
SAMPLE = 4


class TitleHabits:
    """Reads (`habit`) and learns (`learn`) sites' title habits. Evidence waits in the process
    until it is due and is then written in one round trip for all sites; evidence a crash
    loses is a few pages of many, so it is not worth a round trip of its own per story."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._clock = clock
        self._script = register(client, "learn_title")
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, TitleHabit]] = {}
        self._pending: dict[str, Counter[str]] = {}
        self._seen: dict[str, int] = {}  # pages each site is known from, as Redis last said
        self._pages = 0
        self._written = clock()
        self._warned = False

    def habit(self, site: str) -> TitleHabit:
        """The site's habit as Redis has it (at most CACHE_SECONDS old)."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(site)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            with redis_errors("title habit read"):
                raw: Any = self._redis.hgetall(keys.site_titles(self._prefix, site))
        except CommandRefused as exc:
            # Refused, not away (an ACL written before this key family, say): the consensus
            # rule titles the page; learning must never cost a story.
            self._refused(exc)
            raw = {}
        habit = counted(raw)
        self._known(site, habit.seen)
        with self._lock:
            if len(self._cache) >= MAX_SITES:
                self._cache.clear()
            self._cache[site] = (now + CACHE_SECONDS, habit)
        return habit

    def consult(
        self, entry: FeedEntry, page: Extracted | None, result: FetchResult | None
    ) -> TitleHabit | None:
        """A titled entry's extracted page (as fetched: `result`) is evidence of which
        headline candidate its site uses; an untitled entry (a sitemap's, a WARC record's)
        gets what was learned of its site. Without a page there is neither."""
        if page is None or result is None:
            return None
        url, meta = result.url, page.meta
        site = site_of(url)
        if not entry.title.strip():
            return self.habit(site)
        if self.wants(site):
            self.learn(site, agreeing(entry.title, meta.title_claims, meta.source, url))
        return None

    def wants(self, site: str) -> bool:
        """Whether this titled page of `site` is worth comparing (see KNOWN_PAGES). What is
        known of the site's pages comes from the replies of earlier writes and reads: no
        round trip is made to decide."""
        with self._lock:
            seen = self._seen.get(site, 0)
        return seen < KNOWN_PAGES or random.randrange(SAMPLE) == 0

    def _refused(self, exc: CommandRefused) -> None:
        if not self._warned:
            self._warned = True
            log.warning(
                "title habits not kept (%s): untitled entries get the consensus title; "
                "run `newswire acl --apply` again if the Redis ACLs predate this version",
                exc,
            )

    def _known(self, site: str, seen: int) -> None:
        with self._lock:
            if len(self._seen) >= MAX_SITES:
                self._seen.clear()
            self._seen[site] = seen

    def learn(self, site: str, agreed: list[str]) -> None:
        """One page of `site` compared with its feed title: `agreed` names the candidates
        (and the rule) that said the same. Written when due."""
        with self._lock:
            if site not in self._pending and len(self._pending) >= MAX_SITES:
                return  # evidence, not data: dropped rather than held without bound
            counts = self._pending.setdefault(site, Counter())
            counts[SEEN] += 1
            counts.update(agreed)
            self._pages += 1
            due = self._pages >= FLUSH_PAGES or self._clock() - self._written >= FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the evidence gathered so far, every site in one round trip. Redis away: the
        evidence is kept for the next flush (bounded by MAX_SITES)."""
        with self._lock:
            pending, self._pending, self._pages = self._pending, {}, 0
            self._written = self._clock()
        if not pending:
            return
        trip = RoundTrip(self._redis, "title habit write")
        asked = []
        for site, counts in pending.items():
            pairs = [x for name, n in counts.items() for x in (name, n)]
            asked.append(trip.script(
                self._script, [keys.site_titles(self._prefix, site)], [TTL, HALVE_AFTER, *pairs]
            ))  # fmt: skip
        try:
            trip.run()
            for site, index in zip(pending, asked, strict=True):
                self._known(site, int(trip.reply(index)))
        except CommandRefused as exc:
            self._refused(exc)  # the evidence goes: sending it again is refused again
        except BrokerError as exc:
            log.debug("title evidence kept for the next flush: %s", exc)
            with self._lock:
                for site, counts in pending.items():
                    if site in self._pending or len(self._pending) < MAX_SITES:
                        self._pending.setdefault(site, Counter()).update(counts)


def describe(client: redis.Redis, prefix: str, sites: list[str]) -> dict[str, dict[str, object]]:
    """The habits of `sites` as Redis has them, in one round trip (for `feeds list --json`)."""
    trip = RoundTrip(client, "title habit read")
    asked = [trip.command("HGETALL", keys.site_titles(prefix, site)) for site in sites]
    trip.run()
    return {site: counted(trip.reply(i)).describe() for site, i in zip(sites, asked, strict=True)}


def counted(raw: dict[bytes, bytes]) -> TitleHabit:
    """A site's habit from its hash as Redis replies it."""
    return TitleHabit.from_counts({str(k, "utf-8"): int(v) for k, v in raw.items()})
