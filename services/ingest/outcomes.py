"""Outcomes: what became of each entry (EntryResult, Spent on extraction) and poll (FeedReport)."""

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from newswire.services.redact import redact_url


class Outcome(StrEnum):
    """What became of one feed entry."""

    NEW = "new"  # published with the page's body
    FELL_BACK = "fell_back"  # published with the feed's own text
    UPDATED = "updated"  # a new version of a published story (article.updated)
    DUPLICATE = "duplicate"  # already published (or rejected) before, or unchanged
    REJECTED = "rejected"  # refused link: on the rejected stream, not published
    FAILED = "failed"  # nothing published; `reason` says why


ON_STREAM = frozenset({Outcome.NEW, Outcome.FELL_BACK, Outcome.UPDATED})


@dataclass(frozen=True)
class Spent:
    """What one extraction took: seconds on the clock, and CPU seconds of the thread that ran
    it. On a busy worker the clock also counts the wait for a core; the CPU does not, so it is
    what says how much of a worker's CPU goes to extraction."""

    seconds: float
    cpu: float


@dataclass(frozen=True)
class EntryResult:
    """One entry's outcome, and what the steps on the way measured (read by the Meter)."""

    outcome: Outcome
    link: str | None
    reason: str | None = None
    article_id: str | None = None
    entry_id: str | None = None
    # Why the page could not be had, when it could not (a FetchKind value): for programs.
    kind: str | None = None
    extraction: str | None = None  # full, wall, too_short or failed, when a page was extracted
    extract_seconds: float | None = None
    extract_cpu_seconds: float | None = None  # of the thread that extracted (Spent.cpu)
    publish_seconds: float | None = None
    cuts: tuple[str, ...] = ()  # fields the publisher cut to fit the stream entry
    published_at: float | None = None  # the story's own publication time (Unix), if known


@dataclass
class FeedReport:
    """The summary of one feed poll: counts by outcome, and the feed-level error if any."""

    url: str
    counts: Counter[Outcome] = field(default_factory=Counter)
    error: str | None = None
    error_kind: str | None = None  # the feed error's stable kind (a FetchKind value)
    moved_to: str | None = None
    not_modified: bool = False
    salvaged: str | None = None
    cuts: list[str] = field(default_factory=list)
    results: list[EntryResult] = field(default_factory=list)

    def add(self, result: EntryResult) -> None:
        self.counts[result.outcome] += 1
        self.results.append(result)

    def line(self) -> str:
        """One human summary line, the same shape for every feed."""
        counts = ", ".join(f"{self.counts[o]} {o.value.replace('_', ' ')}" for o in Outcome)
        extra = ""
        if self.error:
            extra += f" — feed failed: {self.error}"
        if self.moved_to:
            extra += f" — moved to {self.moved_to}"
        if self.not_modified:
            extra += " — not modified"
        if self.salvaged:
            extra += " — malformed feed, entries salvaged"
        if self.cuts:
            extra += f" — {len(self.cuts)} cut(s) to the size limits"
        return f"{redact_url(self.url)}: {counts}{extra}"
