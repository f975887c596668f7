"""Batch: the entries of one task admitted together (host tokens and known checks in one round
trip), fetched concurrently, then extracted and published one after another as they arrive
(those that arrive together once all of them are in)."""

import logging
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, as_completed, wait
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import redis
from newswire.schemas.feed import FeedEntry, FeedOptions
from newswire.services.backoff import Backoff
from newswire.services.errors import BrokerError, TransientFetch
from newswire.services.fetch.politeness import HostLimiter, reserve_for
from newswire.services.identity.revisions import Known
from newswire.services.identity.urls import clean_url
from newswire.services.ingest.downloader import Download
from newswire.services.ingest.outcomes import EntryResult, Outcome
from newswire.services.ingest.pipeline import Pipeline
from newswire.services.roundtrip import RoundTrip

T = TypeVar("T")
log = logging.getLogger(__name__)

# A page that failed transiently: 15 s, doubling, six hours at most.
PAGE_BACKOFF = Backoff(first=15.0, cap=21600.0)
GATHER_AT_MOST = 0.25  # seconds the other pages of a batch are waited for after the first


class Guard(Protocol):
    """Runs a Redis call, waiting out a short outage (the worker's `with_broker`)."""

    def __call__(self, call: Callable[[], T]) -> T: ...


@dataclass(frozen=True)
class Later:
    """An entry split off its batch, to be tried again alone after `delay` seconds. `attempt`
    counts transient failures only: waiting for a host's turn is no attempt."""

    entry: FeedEntry
    delay: float
    attempt: int
    reason: str


@dataclass
class BatchReport:
    """What became of a batch: entries done (each settled by the caller), entries split off
    to be tried later, and the entry being worked on when the batch was stopped."""

    done: list[tuple[FeedEntry, EntryResult]] = field(default_factory=list)
    later: list[Later] = field(default_factory=list)
    current: FeedEntry | None = None
    left: list[FeedEntry] = field(default_factory=list)  # not started yet

    def drop(self, entry: FeedEntry) -> None:
        """`entry` is no longer left to start (by identity: two entries may be equal)."""
        self.left = [e for e in self.left if e is not entry]


def gather(downloads: Iterable[Future[Download]]) -> None:
    """Wait for the batch's pages that come in together before extracting any: extraction
    beside fetch threads still at work is slower (they contend for the interpreter), ~3% of
    a worker's throughput (`python -m bench.workers`). The wait ends when all are in, or as
    long after the first page as that one took, at most GATHER_AT_MOST: a slow server still
    holds only its own entry."""
    started = time.monotonic()
    _done, pending = wait(downloads, return_when=FIRST_COMPLETED)
    if pending:
        wait(pending, timeout=min(GATHER_AT_MOST, time.monotonic() - started))


class EntryBatch:
    """One task's entries (usually of one poll of one feed). Round trips to Redis: one to
    admit them all, one per publish, none else per entry. A single entry is a batch of one.

    Fairness and politeness hold per entry: an entry whose host has no token now is split off
    with the wait the host's bucket named, and a transient fetch failure is split off to be
    retried alone with backoff, so neither holds the rest of its batch. `stops` are the
    exceptions that end the batch at once (the task's time limit, a requeue): the report then
    says which entry was current and which were left.
    """

    def __init__(
        self,
        *,
        client: redis.Redis,
        pipeline: Pipeline,
        limiter: HostLimiter,
        fetchers: Executor,
        guard: Guard,
        options_of: Callable[[str], FeedOptions | None],
        retries: int,
        stops: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._redis = client
        self.pipeline = pipeline
        self.limiter = limiter
        self.fetchers = fetchers
        self.guard = guard
        self.options_of = options_of
        self.retries = retries
        self.passthrough: tuple[type[BaseException], ...] = (BrokerError, *stops)
        self.report = BatchReport()

    def run(
        self, entries: list[FeedEntry], seen_at: float | None = None, attempt: int = 0
    ) -> BatchReport:
        """Process `entries` (tried `attempt` times before); the report, also when a stop
        ended it early (then it is `self.report` and the stop is raised)."""
        report = self.report
        report.left = list(entries)
        admitted = self.guard(lambda: self._admit(entries, attempt))
        options = {e.feed_url: self.options_of(e.feed_url) for e, _k in admitted}
        downloads = {
            self.fetchers.submit(self._download, entry, options[entry.feed_url], known): entry
            for entry, known in admitted
        }
        final = attempt >= self.retries
        gather(downloads)
        # The first page in is extracted first: a slow server holds only its own entry, and
        # the process is not idle waiting for one page while others are ready.
        for future in as_completed(downloads):
            entry = downloads[future]
            report.drop(entry)
            report.current = entry
            try:
                got = future.result()
            except self.passthrough:
                raise
            except Exception as exc:
                report.done.append((entry, self._bug(entry, exc)))
                report.current = None
                continue
            if isinstance(got.error, TransientFetch) and not final:
                report.later.append(self._failed(entry, got.error, attempt))
            else:
                report.done.append((entry, self._story(entry, got, options, seen_at)))
            report.current = None
        return report

    def _admit(
        self, entries: list[FeedEntry], attempt: int
    ) -> list[tuple[FeedEntry, Known | None]]:
        """One round trip: a host token for each linked entry (fresher stories first, see
        `reserve_for`) and whether its link is known. Entries whose host says wait are split
        off; the others are returned with what is known of them."""
        trip = RoundTrip(self._redis, "batch admission")
        now = time.time()
        linked = [e for e in entries if e.link]
        tokens = []
        for entry in linked:
            when = entry.published_at or entry.updated_at
            reserve = reserve_for(when.timestamp() if when else None, now)
            tokens.append(self.limiter.ask(trip, entry.link or "", reserve))
        asked = self.pipeline.publisher.stories.ask(trip, [clean_url(e.link or "") for e in linked])
        trip.run()
        known = dict(
            zip(map(id, linked), self.pipeline.publisher.stories.answer(trip, asked), strict=True)
        )
        waits = {id(e): HostLimiter.waited(trip, t) for e, t in zip(linked, tokens, strict=True)}
        admitted: list[tuple[FeedEntry, Known | None]] = []
        for entry in entries:
            wait = waits.get(id(entry), 0.0)
            if wait > 0:
                # Politeness is not a failure: no attempt counted; a second of jitter spreads
                # the entries that all wait on one host.
                self.report.drop(entry)
                self.report.later.append(Later(entry, wait + random.random(), attempt, "host rate"))
            else:
                admitted.append((entry, known.get(id(entry))))
        return admitted

    def _download(
        self, entry: FeedEntry, options: FeedOptions | None, known: Known | None
    ) -> Download:
        """In a fetch thread; robots.txt may ask Redis, so an outage is waited out here too
        (a requeue it ends in reaches the task through the future)."""
        return self.guard(lambda: self.pipeline.downloader.download(entry, options, known))

    def _failed(self, entry: FeedEntry, error: TransientFetch, attempt: int) -> Later:
        """A transient failure: tried again alone later, after the server's Retry-After (the
        whole host holds its fetches that long) or the backoff."""
        if error.retry_after and entry.link:
            link, retry_after = entry.link, error.retry_after
            self.guard(lambda: self.limiter.back_off(link, retry_after))
        delay = error.retry_after or PAGE_BACKOFF.delay(attempt + 1)
        return Later(entry, delay, attempt + 1, error.reason)

    def _story(
        self,
        entry: FeedEntry,
        got: Download,
        options: dict[str, FeedOptions | None],
        seen_at: float | None,
    ) -> EntryResult:
        """Extract and publish one entry; a bug on its odd input is its own failure, recorded,
        never the batch's."""
        try:
            return self.guard(
                lambda: self.pipeline.process_entry(
                    entry, options=options[entry.feed_url], seen_at=seen_at, got=got
                )
            )
        except self.passthrough:
            raise
        except Exception as exc:
            return self._bug(entry, exc)

    def _bug(self, entry: FeedEntry, exc: Exception) -> EntryResult:
        """A bug on one entry's odd input: recorded as its failure (and settled), never the
        batch's, and not redelivered forever."""
        log.error("entry %s failed", entry.link, exc_info=exc)
        failed = EntryResult(Outcome.FAILED, entry.link, f"{type(exc).__name__}: {exc}")
        self.pipeline.meter.entry(failed)
        return failed
