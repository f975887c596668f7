"""Meter: the story path's metrics, recorded in one place from what each step reported."""

import logging
import time

from newswire.services.errors import FetchError
from newswire.services.ingest.outcomes import ON_STREAM, EntryResult
from newswire.services.metrics import (
    CUTS,
    ENTRIES,
    EXTRACT_CPU,
    EXTRACT_SECONDS,
    EXTRACTIONS,
    FETCH_SECONDS,
    FETCHES,
    FRESHNESS_SECONDS,
    LATENCY_SECONDS,
    PUBLISH_SECONDS,
    Metrics,
    fetch_result,
)
from newswire.services.redact import redact_url

log = logging.getLogger(__name__)

# A publication time further back than this (or ahead of now) says more about the feed's
# dates than about our latency: not measured.
PLAUSIBLE = 7 * 86400.0


class Meter:
    """Counts and times beside the story path: the path returns what happened, the Meter
    records it (no metrics calls inside the steps). Without Metrics it records nothing."""

    def __init__(self, metrics: Metrics | None) -> None:
        self.metrics = metrics

    def entry(self, result: EntryResult, seen_at: float | None = None) -> None:
        """One entry's outcome, its extraction and publish times, its cuts, and (when a poll
        saw it at `seen_at`, epoch seconds) its latency to the stream."""
        if result.cuts:
            log.warning("%s cut to the entry size limits: %s", redact_url(result.link or ""),
                        "; ".join(result.cuts))  # fmt: skip
        if self.metrics is None:
            return
        self.metrics.incr(ENTRIES, outcome=result.outcome.value)
        if result.extraction is not None:
            self.metrics.incr(EXTRACTIONS, result=result.extraction)
        if result.extract_seconds is not None:
            self.metrics.observe(EXTRACT_SECONDS, result.extract_seconds)
        if result.extract_cpu_seconds is not None:
            self.metrics.add(EXTRACT_CPU, round(result.extract_cpu_seconds * 1e6), {})
        if result.publish_seconds is not None:
            self.metrics.observe(PUBLISH_SECONDS, result.publish_seconds)
        for cut in result.cuts:
            self.metrics.incr(CUTS, field=cut.split(" ", 1)[0])
        if seen_at is not None and result.outcome in ON_STREAM:
            now = time.time()
            self.metrics.observe(LATENCY_SECONDS, now - seen_at)
            if result.published_at is not None and 0 <= now - result.published_at <= PLAUSIBLE:
                self.metrics.observe(FRESHNESS_SECONDS, now - result.published_at)

    def fetched(
        self, kind: str, seconds: float, status: int | None = None, error: FetchError | None = None
    ) -> None:
        if self.metrics is not None:
            self.metrics.incr(FETCHES, kind=kind, result=fetch_result(error, status))
            self.metrics.observe(FETCH_SECONDS, seconds, kind=kind)

    def count(self, name: str, **labels: str) -> None:
        if self.metrics is not None:
            self.metrics.incr(name, **labels)

    def flush(self) -> None:
        if self.metrics is not None:
            self.metrics.flush()
