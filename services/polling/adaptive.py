"""Adaptive polling: a feed's interval learned from its own publishing, bounded and explained.

Each successful poll is an observation of how often the feed publishes:
- the gaps between the publication times of its newest dated entries (their median, so one
  late correction or a burst does not set the pace), when it showed new ones or nothing is
  known of it yet;
- without dates, the new entries found since the last poll (seconds per new story);
- with nothing new, the silence since its newest story, once it is longer than the gap
  believed so far (taken whole: a feed that stopped publishing slows down by itself).
The expected gap is a moving average of those observations (EWMA), and the interval aims at a
fraction of it, between the minimum and the maximum. A poll whose entries were all new may
have missed stories between polls: the next one comes sooner. Never below what the server
asked (TTL, max-age, Retry-After): after_poll applies those bounds on top.
"""

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from newswire.schemas.feed import FeedState
from newswire.services.settings import PollingSettings, default

SMOOTHING = 0.3  # weight of the newest observation in the expected gap
NEWEST_DATED = 20  # entries whose dates are read, newest first
FUTURE_SLACK = 300.0  # an entry dated this far ahead of our clock is not believed


@dataclass(frozen=True)
class Learning:
    """The bounds of a learned interval (NEWSWIRE_POLL_MIN_INTERVAL, _MAX_INTERVAL,
    _GAP_FRACTION)."""

    minimum: int = default("poll_min_interval")
    maximum: int = default("poll_max_interval")
    fraction: float = default("poll_gap_fraction")

    @classmethod
    def from_settings(cls, settings: PollingSettings) -> "Learning":
        return cls(settings.poll_min_interval, settings.poll_max_interval,
                   settings.poll_gap_fraction)  # fmt: skip


@dataclass(frozen=True)
class Observation:
    """What one successful poll showed: the entries' publication times (Unix seconds), how
    many entries it had and how many were new (0 for a 304 or an identical body)."""

    entry_times: Sequence[float] = ()
    entries: int = 0
    new: int = 0


@dataclass(frozen=True)
class Learned:
    expected_gap: float
    interval: int
    newest_entry_at: float | None
    why: str  # one line for people: what the interval was learned from


def dated_gap(times: Sequence[float], now: float) -> float | None:
    """The median gap between the newest dated entries, None with fewer than two."""
    believable = sorted((t for t in times if t <= now + FUTURE_SLACK), reverse=True)
    newest = believable[:NEWEST_DATED]
    gaps = [a - b for a, b in itertools.pairwise(newest) if a > b]
    return statistics.median(gaps) if gaps else None


def learn(state: FeedState, seen: Observation, now: float, policy: Learning) -> Learned:
    """The feed's next expected gap and interval after a successful poll."""
    believable = [t for t in seen.entry_times if t <= now + FUTURE_SLACK]
    known = [t for t in (*believable, state.newest_entry_at) if t is not None]
    newest = max(known) if known else None
    previous = state.expected_gap
    dated = dated_gap(believable, now)
    observed: float | None = None
    silence = False
    why = "no new evidence: the gap believed so far"
    if dated is not None and (seen.new or previous is None):
        observed, why = dated, "the gaps between its newest stories"
    elif seen.new and state.last_polled is not None:
        observed, why = (now - state.last_polled) / seen.new, "its new stories per poll"
    elif not seen.new and newest is not None and now - newest > (previous or 0.0):
        observed, why, silence = now - newest, "the silence since its newest story", True
    if observed is None:
        gap = previous if previous is not None else float(state.interval) / policy.fraction
    elif previous is None or silence:
        # A silence longer than the gap believed is the gap's lower bound by itself: taken
        # whole, so a feed that stopped publishing slows down by half again each poll.
        gap = observed
    else:
        gap = SMOOTHING * observed + (1 - SMOOTHING) * previous
    interval = gap * policy.fraction
    if seen.new and seen.new >= seen.entries and state.last_polled is not None:
        # Every entry was new: stories may have scrolled off the feed between two polls.
        interval /= 2
        why += "; all entries new, so sooner"
    bounded = int(min(policy.maximum, max(policy.minimum, interval)))
    return Learned(gap, bounded, newest, why)
